using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Training.Checkpoints;

/// <summary>
/// A plain named-tensor file: magic "STRMTNS1", entry count, then per entry its name, dtype, shape and
/// raw little-endian bytes. Exact (bit-for-bit) for every dtype; large tensors stream in chunks.
/// </summary>
internal static class TensorFile
{
    static readonly byte[] Magic = "STRMTNS1"u8.ToArray();
    const long ChunkBytes = 64L << 20;

    /// <summary>Writes the tensors (sorted by name) to <paramref name="path"/>, fsyncs it, and returns its hash and length.</summary>
    public static CheckpointFile Write(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        using var _ = torch.no_grad();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length;
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            using (var hashing = new HashingStream(file, sha))
            using (var w = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
            {
                w.Write(Magic);
                w.Write(tensors.Count);
                foreach (var (name, tensor) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    w.Write(name);
                    w.Write((int)tensor.dtype);
                    w.Write((int)tensor.dim());
                    foreach (var d in tensor.shape) w.Write(d);
                    using var detached = tensor.detach();
                    using var flat = detached.reshape(-1);
                    var elementSize = (long)flat.element_size();
                    w.Write(flat.numel() * elementSize);
                    var perChunk = Math.Max(1, ChunkBytes / elementSize);
                    for (long start = 0; start < flat.numel(); start += perChunk)
                    {
                        var n = Math.Min(perChunk, flat.numel() - start);
                        using var piece = flat.narrow(0, start, n);
                        using var host = piece.to(torch.CPU).clone();   // own, contiguous storage at offset 0
                        w.Write(host.bytes);
                    }
                }
                w.Flush();
            }
            file.Flush(flushToDisk: true);
            length = file.Length;
        }
        return new CheckpointFile(Convert.ToHexStringLower(sha.GetHashAndReset()), length);
    }

    /// <summary>Reads every tensor onto <paramref name="device"/>. The caller has verified the hash.</summary>
    public static Dictionary<string, Tensor> Read(string path, Device device)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var _ = torch.no_grad();
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            using var r = new BinaryReader(file, Encoding.UTF8);
            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException("not a tensor file");
            var count = r.ReadInt32();
            for (var i = 0; i < count; i++)
            {
                var name = r.ReadString();
                var dtype = (ScalarType)r.ReadInt32();
                var shape = new long[r.ReadInt32()];
                for (var d = 0; d < shape.Length; d++) shape[d] = r.ReadInt64();
                var bytes = r.ReadInt64();
                var tensor = torch.empty(shape, dtype, device);
                result[name] = tensor;
                using var flat = tensor.reshape(-1);
                var elementSize = (long)flat.element_size();
                if (bytes != flat.numel() * elementSize) throw new InvalidDataException($"tensor {name}: {bytes} bytes for shape [{string.Join(",", shape)}]");
                var perChunk = Math.Max(1, ChunkBytes / elementSize);
                for (long start = 0; start < flat.numel(); start += perChunk)
                {
                    var n = Math.Min(perChunk, flat.numel() - start);
                    using var host = torch.empty(n, dtype);
                    r.BaseStream.ReadExactly(host.bytes);
                    using var piece = flat.narrow(0, start, n);
                    piece.copy_(host);
                }
            }
            if (file.Position != file.Length) throw new InvalidDataException("trailing bytes");
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>SHA-256 (lower-case hex) and length of a file.</summary>
    public static CheckpointFile Hash(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var hash = SHA256.HashData(file);
        return new CheckpointFile(Convert.ToHexStringLower(hash), file.Length);
    }

    /// <summary>Passes writes through to a stream while hashing them.</summary>
    sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }
        protected override void Dispose(bool disposing) { }
    }
}
