using System.Text.Unicode;
using CsCheck;
using Streaming.Training.Data;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// .txt corpora whose every paragraph's fate is known: plain paragraphs, many tiny lines, invalid UTF-8 sprinkled in,
/// one huge line, no-break-space-only paragraphs; LF or CRLF, a BOM or not, plain or compressed (.gz, .zst), given as
/// the file or as its folder. The expectation follows the documented rule: a paragraph (lines joined by '\n') over the
/// limit is too large, else invalid UTF-8, else empty when it is only white space, else a document of its bytes.
/// </summary>
internal static class TextCorpusGen
{
    public static readonly Gen<CorpusCase> Cases =
        from max in TextGen.MaxDocumentBytes
        from blockSize in TextGen.BlockSize
        from paragraphs in Paragraph(max).Array[1, 40]
        from separators in Gen.OneOf("", " ", "\t ").Array[1, 3].Array[paragraphs.Length]
        from crlf in Gen.Bool
        from bom in Gen.Bool
        from finalNewline in Gen.Bool
        from suffix in Gen.OneOf(Compressed.Suffixes)
        from inFolder in Gen.Bool
        select Build(max, blockSize, paragraphs, separators, crlf, bom, finalNewline, suffix, inFolder);

    private static Gen<byte[][]> Paragraph(int max) => TextGen.Weighted(
        (6, TextGen.Words1To(12).Array[1, 30].Select(Lines)),
        (2, TextGen.Words1To(1).Array[100, 500].Select(Lines)),
        (2, from lines in TextGen.Words1To(12).Array[1, 10]
            from line in Gen.Int[0, 9]
            from bad in TextGen.InvalidUtf8
            select Sprinkle(Lines(lines), line % lines.Length, bad)),
        (2, Gen.Int[1, 3 * max].Select(length => new[] { Enumerable.Repeat((byte)'x', length).ToArray() })),
        (1, Gen.Int[1, 5].Select(n => new[] { TextGen.Utf8(new string('\u00A0', n)) })));

    private static byte[][] Lines(string[] lines) => lines.Select(TextGen.Utf8).ToArray();

    /// <summary>Puts <paramref name="bad"/> after the first byte of one line (never at the file's start, where 0xFF 0xFE would read as UTF-16).</summary>
    private static byte[][] Sprinkle(byte[][] lines, int line, byte[] bad)
    {
        lines[line] = [lines[line][0], .. bad, .. lines[line][1..]];
        return lines;
    }

    private static CorpusCase Build(int max, int blockSize, byte[][][] paragraphs, string[][] separators, bool crlf, bool bom,
        bool finalNewline, string suffix, bool inFolder)
    {
        var end = crlf ? "\r\n"u8.ToArray() : "\n"u8.ToArray();
        var text = new List<byte[]>();
        if (bom) text.Add([0xEF, 0xBB, 0xBF]);
        for (var p = 0; p < paragraphs.Length; p++)
        {
            if (p > 0) foreach (var blank in separators[p]) text.Add([.. TextGen.Utf8(blank), .. end]);
            for (var l = 0; l < paragraphs[p].Length; l++)
            {
                text.Add(paragraphs[p][l]);
                if (l < paragraphs[p].Length - 1 || p < paragraphs.Length - 1 || finalNewline) text.Add(end);
            }
        }
        var name = "notes.txt" + suffix;
        var bytes = Compressed.Of(TextGen.Concat(text), suffix);
        var expected = ExpectedIngest.Sum(paragraphs.Select(p => Expect(p, max)));
        return new CorpusCase("text", [new FileEntry(name, bytes)], inFolder ? null : name, max, blockSize, expected);
    }

    private static ExpectedIngest Expect(byte[][] lines, int max)
    {
        var document = TextGen.Concat(lines.Select((line, i) => i == 0 ? line : [(byte)'\n', .. line]));
        var skipped = new SkipCounts();
        if (document.Length > max) skipped.TooLarge++;
        else if (!Utf8.IsValid(document)) skipped.InvalidUtf8++;
        else if (string.IsNullOrWhiteSpace(System.Text.Encoding.UTF8.GetString(document))) skipped.EmptyDocuments++;
        else return new ExpectedIngest(1, document.Length, skipped);
        return new ExpectedIngest(0, 0, skipped);
    }
}
