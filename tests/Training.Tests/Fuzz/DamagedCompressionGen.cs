using CsCheck;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// .gz and .zst files that are truncated, not compressed at all, garbage after the magic bytes, or have bytes flipped.
/// The first three must be refused (a truncated stream is never taken for a shorter text); a flipped byte may land
/// where it changes nothing (a gzip header's time stamp), so it may also succeed, with consistent counts.
/// </summary>
internal static class DamagedCompressionGen
{
    private enum Damage { Truncated, NotCompressed, GarbageAfterMagic, Flipped }

    public static readonly Gen<CorpusCase> Cases =
        from suffix in Gen.OneOf(".gz", ".zst")
        from format in Gen.OneOf(".txt", ".jsonl")
        from text in TextGen.Words1To(30).Array[1, 200]
        from damage in Gen.Enum<Damage>()
        from at in Gen.Double[0, 1]
        from garbage in Gen.Byte.Array[1, 4096]
        from inFolder in Gen.Bool
        select Build(suffix, format, text, damage, at, garbage, inFolder);

    private static CorpusCase Build(string suffix, string format, string[] lines, Damage damage, double at, byte[] garbage, bool inFolder)
    {
        var text = TextGen.Utf8(string.Join("\n\n", format == ".txt" ? lines : lines.Select(l => $"{{\"text\": \"{l.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\t", "\\t")}\"}}")));
        var compressed = Compressed.Of(text, suffix);
        var position = (int)(at * (compressed.Length - 1));
        var bytes = damage switch
        {
            Damage.Truncated => compressed[..position],
            Damage.NotCompressed => text,
            Damage.GarbageAfterMagic => [.. compressed[..4], .. garbage],
            _ => Flip(compressed, position, garbage[0]),
        };
        var name = "damaged" + format + suffix;
        return new CorpusCase($"damaged-compression ({damage})", [new FileEntry(name, bytes)], inFolder ? null : name, 65536, 64,
            MustRefuse: damage != Damage.Flipped);
    }

    private static byte[] Flip(byte[] bytes, int position, byte mask)
    {
        var flipped = bytes.ToArray();
        flipped[position] ^= mask == 0 ? (byte)1 : mask;
        return flipped;
    }
}
