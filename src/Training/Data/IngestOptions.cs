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

    public static IngestOptions Default { get; } = new();
}

/// <summary>Progress of an ingest: pass 1 reads and hashes ("scan"), pass 2 tokenizes and writes ("tokenize").</summary>
public readonly record struct IngestProgress(string Phase, long Documents, long Tokens);
