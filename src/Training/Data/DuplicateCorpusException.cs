namespace Streaming.Training.Data;

/// <summary>
/// The source holds the same text as a stored corpus the ingest was asked to differ from
/// (<see cref="IngestOptions.DistinctFrom"/>): the same documents in the same order, by content hash.
/// </summary>
public sealed class DuplicateCorpusException(string corpus)
    : InvalidOperationException($"the same text is stored as corpus '{corpus}' (same content hash)")
{
    /// <summary>The stored corpus with the same text.</summary>
    public string Corpus { get; } = corpus;
}
