using CsCheck;
using Streaming.Training.Data;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// A small .gz or .zst that decompresses to 2-64 MiB of one character on one line (one document far over the limit),
/// alone or after some real documents: exactly one document too large, and the real ones kept.
/// </summary>
internal static class CompressionBombGen
{
    public static readonly Gen<CorpusCase> Cases =
        from suffix in Gen.OneOf(".gz", ".zst")
        from mebibytes in Gen.OneOf(2, 8, 64)
        from documents in TextGen.Words1To(10).Array[0, 20]
        from max in Gen.OneOf(4096, 65536, 1 << 20) // below the smallest bomb
        from inFolder in Gen.Bool
        select Build(suffix, mebibytes, documents, max, inFolder);

    private static CorpusCase Build(string suffix, int mebibytes, string[] documents, int max, bool inFolder)
    {
        var bomb = Compressed.Bomb(suffix, mebibytes * (1L << 20));
        // Concatenated frames: zstd reads them as one stream; gzip as several members, which the trailer check refuses,
        // so the documents go in a file of their own beside the bomb.
        var entries = new List<CorpusEntry> { new FileEntry("b-bomb.txt" + suffix, bomb) };
        if (documents.Length > 0) entries.Add(new FileEntry("a-documents.txt", TextGen.Utf8(string.Join("\n\n", documents))));
        var tokens = documents.Sum(d => (long)TextGen.Utf8(d).Length);
        var expected = new ExpectedIngest(documents.Length, tokens, new SkipCounts { TooLarge = 1 });
        var target = inFolder || documents.Length > 0 ? null : entries[0].Path;
        return new CorpusCase($"compression-bomb ({mebibytes} MiB {suffix})", entries, target, max, 64, expected);
    }
}
