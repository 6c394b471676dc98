namespace Streaming.Training.Data;

/// <summary>How a corpus is turned into blocks.</summary>
public sealed record IngestOptions
{
    /// <summary>Tokens per block (the last block of each part may be shorter).</summary>
    public int BlockSize { get; init; } = 4096;

    public double ValidationFraction { get; init; } = DocumentSplit.DefaultValidationFraction;

    public CorpusReaderOptions Reader { get; init; } = CorpusReaderOptions.Default;

    /// <summary>
    /// Replace a stored corpus of the same name whose content or settings differ. Without it such an
    /// ingest fails; an ingest identical to the stored one is a no-op either way.
    /// </summary>
    public bool Overwrite { get; init; }

    /// <summary>
    /// Folders of stored corpora whose text this one must not repeat (the other corpora of the run it is for): a source
    /// with the same content hash as one of them throws <see cref="DuplicateCorpusException"/> after the first pass,
    /// before anything is written. Folders without a readable manifest are passed over.
    /// </summary>
    public IReadOnlyList<string> DistinctFrom { get; init; } = [];

    public static IngestOptions Default { get; } = new();
}

/// <summary>
/// Progress of an ingest: pass 1 reads and hashes ("scan"), pass 2 tokenizes and writes ("tokenize").
/// Each pass reads the source once, so <see cref="BytesRead"/> runs from 0 to <see cref="TotalBytes"/>
/// (the size of every file under the path) in each. Documents and skips count what this pass has seen.
/// </summary>
public readonly record struct IngestProgress(string Phase, long BytesRead, long TotalBytes, long Documents, long Tokens, long SkippedDocuments)
{
    public const string ScanPhase = "scan";
    public const string TokenizePhase = "tokenize";
}
