using System.Text;
using System.Text.Unicode;
using CsCheck;
using Streaming.Training.Data;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// .jsonl corpora whose every line's fate is known: documents (escaped or raw UTF-8, extra fields, moderate nesting),
/// deeply nested objects, oversized texts, malformed lines, roots that are not objects, missing or non-string "text",
/// invalid UTF-8 and escaped lone surrogates, empty texts, blank lines; plain or compressed, given as file or folder.
/// </summary>
internal static class JsonLinesCorpusGen
{
    /// <summary>One line and what it must count as (null: a blank line, ignored).</summary>
    private sealed record Line(byte[] Bytes, ExpectedIngest? Outcome);

    public static readonly Gen<CorpusCase> Cases =
        from max in TextGen.MaxDocumentBytes
        from blockSize in TextGen.BlockSize
        from lines in LineGen(max).Array[1, 60]
        from crlf in Gen.Bool
        from suffix in Gen.OneOf(Compressed.Suffixes)
        from inFolder in Gen.Bool
        select Build(max, blockSize, lines, crlf, suffix, inFolder);

    private static Gen<Line> LineGen(int max) => TextGen.Weighted(
        (8, from text in TextGen.Words1To(20)
            from escapeAll in Gen.Bool
            from extra in Gen.OneOf("", "\"id\": 7, ", "\"meta\": {\"a\": [1, 2, {\"b\": null}]}, ", "\"text2\": 1.5e300, ")
            select Document(Encoding.UTF8.GetBytes($"{{{extra}\"text\": {Quote(text, escapeAll)}}}"), text, max)),
        (1, Gen.Int[1, 60].Select(depth => Document(Encoding.UTF8.GetBytes($"{{\"deep\": {Nested(depth)}, \"text\": \"nested\"}}"), "nested", max))),
        (1, Gen.Int[65, 5000].Select(depth => Skip(Encoding.UTF8.GetBytes($"{{\"text\": \"deep\", \"deep\": {Nested(depth)}}}"), malformed: 1))),
        (1, Gen.Int[1, 3 * max].Select(length => Document(Encoding.UTF8.GetBytes($"{{\"text\": \"{new string('y', length)}\"}}"), new string('y', length), max))),
        (2, from text in TextGen.Words1To(10)
            from cut in Gen.Int[1, 1000]
            select Cut(Encoding.UTF8.GetBytes($"{{\"text\": {Quote(text, false)}}}"), cut)),
        (1, Gen.OneOf("[1, 2]", "42", "\"text\"", "null", "true", "}{", "{\"text\": \"a\"} {\"text\": \"b\"}").Select(l => Skip(Encoding.UTF8.GetBytes(l), malformed: 1))),
        (2, Gen.OneOf("{}", "{\"id\": 1}", "{\"text\": 5}", "{\"text\": null}", "{\"text\": [\"a\"]}", "{\"text\": {\"a\": \"b\"}}", "{\"Text\": \"x\"}", "{\"text\": true}")
            .Select(l => Skip(Encoding.UTF8.GetBytes(l), missing: 1))),
        (2, from text in TextGen.Words1To(10)
            from bad in TextGen.InvalidUtf8
            select Skip([.. "{\"text\": \"a"u8, .. bad, .. Encoding.UTF8.GetBytes(Quote(text, false)[1..]), .. "}"u8], invalid: 1)),
        (1, Gen.OneOf("\\ud800", "\\udfff", "a\\ud83dz").Select(s => Skip(Encoding.UTF8.GetBytes($"{{\"text\": \"{s}\"}}"), invalid: 1))),
        (1, Gen.OneOf("\"\"", "\"   \"", "\"\\n\\t\"", "\"\\u00a0\"").Select(s => Skip(Encoding.UTF8.GetBytes($"{{\"text\": {s}}}"), empty: 1))),
        (1, Gen.OneOf("", " ", "\t \t").Select(s => new Line(Encoding.UTF8.GetBytes(s), null))));

    private static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    /// <summary>A JSON string literal of <paramref name="text"/>: quotes, backslashes and control characters escaped, and every non-ASCII character too when asked.</summary>
    private static string Quote(string text, bool escapeNonAscii)
    {
        var quoted = new StringBuilder("\"");
        foreach (var ch in text)
            quoted.Append(ch switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                < ' ' => $"\\u{(int)ch:x4}",
                > '~' when escapeNonAscii => $"\\u{(int)ch:x4}",
                _ => ch.ToString(),
            });
        return quoted.Append('"').ToString();
    }

    /// <summary>A line holding a string "text": a document, or too large when the text passes the limit (the line's own limit is applied in Build).</summary>
    private static Line Document(byte[] line, string text, int max)
    {
        var textBytes = Encoding.UTF8.GetByteCount(text);
        return textBytes > max ? Skip(line, tooLarge: 1) : new Line(line, new ExpectedIngest(1, textBytes, new SkipCounts()));
    }

    /// <summary>The documented line limit: twice the document limit plus 1 KiB (JSON escapes), plus one byte for a stripped '\r'.</summary>
    private static long MaxRawLine(int max) => 2L * max + 1024 + 1;

    /// <summary>A proper prefix of an object: malformed, or invalid UTF-8 when the cut splits a character (checked first).</summary>
    private static Line Cut(byte[] line, int cut)
    {
        var prefix = line[..Math.Min(cut, line.Length - 1)];
        return Utf8.IsValid(prefix) ? Skip(prefix, malformed: 1) : Skip(prefix, invalid: 1);
    }

    private static Line Skip(byte[] line, int malformed = 0, int missing = 0, int invalid = 0, int empty = 0, int tooLarge = 0) =>
        new(line, new ExpectedIngest(0, 0, new SkipCounts
        {
            MalformedJson = malformed, MissingText = missing, InvalidUtf8 = invalid, EmptyDocuments = empty, TooLarge = tooLarge,
        }));

    private static CorpusCase Build(int max, int blockSize, Line[] lines, bool crlf, string suffix, bool inFolder)
    {
        var end = crlf ? "\r\n"u8.ToArray() : "\n"u8.ToArray();
        var text = TextGen.Concat(lines.Select(l => (byte[])[.. l.Bytes, .. end]));
        // Any line past the line limit is too large, whatever it holds (the reader does not parse it).
        var outcomes = lines.Where(l => l.Outcome is not null).Select(l =>
            l.Bytes.Length + (crlf ? 1 : 0) > MaxRawLine(max) ? new ExpectedIngest(0, 0, new SkipCounts { TooLarge = 1 }) : l.Outcome!);
        var name = "corpus.jsonl" + suffix;
        return new CorpusCase("jsonl", [new FileEntry(name, Compressed.Of(text, suffix))], inFolder ? null : name, max, blockSize, ExpectedIngest.Sum(outcomes));
    }
}
