using System.Buffers.Binary;
using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;

namespace Streaming.Training.Data;

/// <summary>
/// The checksums of a token file: for every <see cref="ChunkBytes"/> of it (the last chunk may be shorter), its XxHash64,
/// 8 bytes little-endian, one after another in <c>FILE.xxh64</c> beside it. Written at ingest with the token file; a read
/// verifies every chunk it touches, so a damaged byte anywhere is caught by the first read that covers it, at the cost
/// of reading whole chunks (at most two more than the bytes asked for) and hashing them (several GB/s).
/// </summary>
public static class TokenChecksums
{
    public const int ChunkBytes = 64 * 1024;
    public const string Extension = ".xxh64";

    public static string PathOf(string tokenFile) => tokenFile + Extension;

    /// <summary>Appends checksums chunk by chunk as the token file's bytes go by; <see cref="Commit"/> forces them to disk.</summary>
    internal sealed class Writer(string tokenFile) : IDisposable
    {
        // Created anew: a token file written again (a corpus split by blocks) gets fresh checksums.
        readonly FileStream sums = new(PathOf(tokenFile), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        readonly XxHash64 hash = new();
        int inChunk;

        public void Append(ReadOnlySpan<byte> bytes)
        {
            while (bytes.Length > 0)
            {
                var n = Math.Min(bytes.Length, ChunkBytes - inChunk);
                hash.Append(bytes[..n]);
                inChunk += n;
                bytes = bytes[n..];
                if (inChunk == ChunkBytes) EndChunk();
            }
        }

        public void Commit()
        {
            if (inChunk > 0) EndChunk();
            sums.Flush(flushToDisk: true);
        }

        void EndChunk()
        {
            Span<byte> value = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(value, hash.GetCurrentHashAsUInt64());
            sums.Write(value);
            hash.Reset();
            inChunk = 0;
        }

        public void Dispose() => sums.Dispose();
    }

    /// <summary>Reads bytes [<paramref name="offset"/>, offset + destination.Length) of a token file of <paramref name="fileLength"/>
    /// bytes into <paramref name="destination"/>, after checking every chunk of <paramref name="chunkBytes"/> they touch against <paramref name="sums"/>.</summary>
    /// <exception cref="CorpusFormatException">A chunk does not match its checksum (or the checksum file is short).</exception>
    internal static void ReadVerified(SafeFileHandle file, SafeFileHandle sums, long fileLength, int chunkBytes, long offset, Span<byte> destination, string describe)
    {
        if (destination.Length == 0) return;
        var first = offset / chunkBytes;
        var last = (offset + destination.Length - 1) / chunkBytes;
        var start = first * chunkBytes;
        var chunks = new byte[(int)(Math.Min(fileLength, (last + 1) * chunkBytes) - start)];
        ReadExactly(file, chunks, start, describe);
        var expected = new byte[(int)(last - first + 1) * 8];
        ReadExactly(sums, expected, first * 8, $"{describe}{Extension}");
        for (var chunk = first; chunk <= last; chunk++)
        {
            var from = (int)((chunk - first) * chunkBytes);
            var bytes = chunks.AsSpan(from, Math.Min(chunkBytes, chunks.Length - from));
            if (XxHash64.HashToUInt64(bytes) != BinaryPrimitives.ReadUInt64LittleEndian(expected.AsSpan((int)(chunk - first) * 8)))
                throw new CorpusFormatException($"{describe} is damaged: bytes {chunk * chunkBytes:N0}-{chunk * chunkBytes + bytes.Length - 1:N0} do not "
                    + $"match their checksum; the stored corpus cannot be trained on (ingest its source again under another name)");
        }
        chunks.AsSpan((int)(offset - start), destination.Length).CopyTo(destination);
    }

    static void ReadExactly(SafeFileHandle file, Span<byte> bytes, long offset, string describe)
    {
        var read = 0;
        while (read < bytes.Length)
        {
            var n = RandomAccess.Read(file, bytes[read..], offset + read);
            if (n == 0) throw new CorpusFormatException($"{describe} is damaged: it ends early at byte {offset + read:N0}");
            read += n;
        }
    }
}
