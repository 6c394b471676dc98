namespace Streaming.Training.Data;

/// <summary>How a corpus is read.</summary>
public sealed record CorpusReaderOptions
{
    /// <summary>
    /// Largest document (UTF-8 bytes) that is kept; longer ones are skipped and counted. Readers stop
    /// buffering a line or document at this size, which bounds memory for e.g. a one-line 100 MB file.
    /// </summary>
    public int MaxDocumentBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>The parquet column that holds the text.</summary>
    public string TextColumn { get; init; } = "text";

    /// <summary>How a .txt file is cut into documents.</summary>
    public TextDocumentMode TextMode { get; init; } = TextDocumentMode.BlankLineSeparated;

    public static CorpusReaderOptions Default { get; } = new();
}

public enum TextDocumentMode
{
    /// <summary>Documents are separated by one or more blank (empty or whitespace-only) lines.</summary>
    BlankLineSeparated,

    /// <summary>The whole file is one document.</summary>
    WholeFile,
}
