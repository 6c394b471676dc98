using System.Text.Json;
using System.Text.Unicode;

namespace Streaming.Training.Data;

/// <summary>
/// Reads a .jsonl file: one JSON object per line, the document in its string field "text"; other
/// fields are ignored. Blank lines are ignored; malformed lines, lines without a string "text",
/// invalid UTF-8 and oversized lines are skipped and counted. Streams line by line.
/// </summary>
internal static class JsonLinesReader
{
    /// <param name="path">Names the file in each document's source.</param>
    /// <param name="buffers">The calling reader's line buffers, reused from file to file.</param>
    public static IEnumerable<CorpusDocument> Read(Stream stream, string path, CorpusReaderOptions options, SkipCounts skipped, LineBuffers buffers)
    {
        // JSON escapes make the line longer than its text; allow some slack before calling a line too long.
        var maxLine = (int)Math.Min(int.MaxValue - 64L, options.MaxDocumentBytes * 2L + 1024);
        var lines = new BoundedLineReader(stream, maxLine, buffers);
        while (true)
        {
            var status = lines.ReadLine(out var line);
            if (status == LineStatus.End) yield break;
            if (status == LineStatus.TooLong)
            {
                skipped.TooLarge++;
                continue;
            }
            if (line.Span.Trim(" \t"u8).IsEmpty) continue;
            var text = ParseText(line, options.MaxDocumentBytes, skipped);
            if (text is not null) yield return new CorpusDocument($"{path}:{lines.LineNumber}", text);
        }
    }

    private static string? ParseText(ReadOnlyMemory<byte> line, int maxDocumentBytes, SkipCounts skipped)
    {
        if (!Utf8.IsValid(line.Span))
        {
            skipped.InvalidUtf8++;
            return null;
        }
        try
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                skipped.MalformedJson++;
                return null;
            }
            if (!json.RootElement.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
            {
                skipped.MissingText++;
                return null;
            }
            return TextChecks.Accept(text.GetString(), maxDocumentBytes, skipped);
        }
        catch (JsonException)
        {
            skipped.MalformedJson++;
            return null;
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate ("\ud800") cannot become a string: not valid Unicode text.
            skipped.InvalidUtf8++;
            return null;
        }
    }
}
