namespace Streaming.Training.Data;

/// <summary>
/// What a reader skipped instead of failing, by reason. Files are counted when they are found by
/// walking a folder; documents wherever they are. Recorded in the block store's manifest.
/// </summary>
public sealed record SkipCounts
{
    /// <summary>Files of length 0 in a folder.</summary>
    public long EmptyFiles { get; set; }

    /// <summary>Files in a folder whose first bytes hold a NUL byte (not text).</summary>
    public long BinaryFiles { get; set; }

    /// <summary>Files in a folder with an extension other than .txt, .jsonl, .parquet (or .txt/.jsonl compressed: .gz, .zst), e.g. LICENSE, SOURCE.md.</summary>
    public long UnsupportedFiles { get; set; }

    /// <summary>Documents whose bytes are not valid UTF-8.</summary>
    public long InvalidUtf8 { get; set; }

    /// <summary>Documents (or single lines) longer than <see cref="CorpusReaderOptions.MaxDocumentBytes"/>.</summary>
    public long TooLarge { get; set; }

    /// <summary>.jsonl lines that are not a JSON object.</summary>
    public long MalformedJson { get; set; }

    /// <summary>.jsonl objects without a string "text" field; null parquet values.</summary>
    public long MissingText { get; set; }

    /// <summary>Documents that are empty or whitespace only.</summary>
    public long EmptyDocuments { get; set; }

    public long Documents => InvalidUtf8 + TooLarge + MalformedJson + MissingText + EmptyDocuments;

    public long Files => EmptyFiles + BinaryFiles + UnsupportedFiles;

    /// <summary>
    /// What was skipped, for people: "skipped 3 documents: 2 invalid UTF-8, 1 over 16 MiB; skipped 1 file:
    /// 1 binary", only the reasons that occurred; empty when nothing was skipped.
    /// </summary>
    public string Describe(int maxDocumentBytes)
    {
        var parts = new List<string>();
        if (Documents > 0)
            parts.Add(Group("document", Documents, [
                (InvalidUtf8, "invalid UTF-8"), (TooLarge, $"over {ByteSize.Format(maxDocumentBytes)}"), (MalformedJson, "malformed JSON"),
                (MissingText, "without text"), (EmptyDocuments, "empty")]));
        if (Files > 0)
            parts.Add(Group("file", Files, [
                (EmptyFiles, "empty"), (BinaryFiles, "binary"), (UnsupportedFiles, $"not {string.Join("/", CorpusReader.Extensions)}")]));
        return string.Join("; ", parts);
    }

    private static string Group(string noun, long total, (long Count, string Reason)[] reasons) =>
        $"skipped {total:N0} {noun}{(total == 1 ? "" : "s")}: " +
        string.Join(", ", reasons.Where(r => r.Count > 0).Select(r => $"{r.Count:N0} {r.Reason}"));

    public override string ToString() =>
        $"skipped files: {EmptyFiles} empty, {BinaryFiles} binary, {UnsupportedFiles} unsupported; " +
        $"skipped documents: {InvalidUtf8} invalid UTF-8, {TooLarge} too large, {MalformedJson} malformed JSON, " +
        $"{MissingText} without text, {EmptyDocuments} empty";
}
