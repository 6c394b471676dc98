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

/// <summary>The two passes of an ingest over its source (their wire names, kebab-case: "scan", "tokenize").</summary>
public enum IngestPhase
{
    /// <summary>Reads and hashes the documents: counts, skips, the source's hash, the split.</summary>
    Scan,

    /// <summary>Reads them again, tokenizes and writes the blocks.</summary>
    Tokenize,
}

/// <summary>
/// Progress of an ingest in one of its <see cref="IngestPhase"/>s. Each pass reads the source once, so
/// <see cref="BytesRead"/> runs from 0 to <see cref="TotalBytes"/> (the size of every file under the path) in each.
/// Documents and skips count what this pass has seen.
/// </summary>
public readonly record struct IngestProgress(IngestPhase Phase, long BytesRead, long TotalBytes, long Documents, long Tokens, long SkippedDocuments);
