using System.IO.Compression;
using ZstdSharp;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>Compresses generated text the way the tools that make corpus files do (gzip, zstd).</summary>
internal static class Compressed
{
    public static readonly string[] Suffixes = ["", ".gz", ".zst"];

    public static byte[] Of(byte[] text, string suffix)
    {
        if (suffix == "") return text;
        var output = new MemoryStream();
        using (Stream compressor = suffix == ".gz" ? new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true) : new CompressionStream(output, 1, leaveOpen: true))
            compressor.Write(text);
        return output.ToArray();
    }

    /// <summary>A small file that decompresses to <paramref name="bytes"/> bytes of one character, no line break (built once per size).</summary>
    public static byte[] Bomb(string suffix, long bytes) => Bombs.GetOrAdd((suffix, bytes), key =>
    {
        var output = new MemoryStream();
        using (Stream compressor = key.Suffix == ".gz" ? new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true) : new CompressionStream(output, 3, leaveOpen: true))
        {
            var chunk = new byte[1 << 20];
            Array.Fill(chunk, (byte)'a');
            for (var left = key.Bytes; left > 0; left -= chunk.Length) compressor.Write(chunk, 0, (int)Math.Min(chunk.Length, left));
        }
        return output.ToArray();
    });

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Suffix, long Bytes), byte[]> Bombs = new();
}
