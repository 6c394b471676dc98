using System.Buffers.Binary;

namespace Streaming.Training.Data;

/// <summary>
/// Appends token ids to a file as little-endian unsigned integers of 2 or 4 bytes, through a fixed
/// buffer (constant memory), and their checksums beside them (<see cref="TokenChecksums"/>). <see cref="Commit"/> flushes
/// both to disk before the caller renames them.
/// </summary>
internal sealed class TokenFileWriter : IDisposable
{
    private readonly FileStream _file;
    private readonly byte[] _buffer = new byte[1 << 20];
    private readonly int _tokenBytes;
    private readonly TokenChecksums.Writer _checksums;
    private int _used;

    public TokenFileWriter(string path, int tokenBytes)
    {
        if (tokenBytes is not (2 or 4)) throw new ArgumentOutOfRangeException(nameof(tokenBytes));
        _tokenBytes = tokenBytes;
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
        _checksums = new TokenChecksums.Writer(path);
    }

    public long Tokens { get; private set; }

    public void Write(ReadOnlySpan<int> ids)
    {
        foreach (var id in ids)
        {
            if (_used + _tokenBytes > _buffer.Length) FlushBuffer();
            if (_tokenBytes == 2)
            {
                if ((uint)id > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} does not fit in 2 bytes");
                BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_used), (ushort)id);
            }
            else
            {
                if (id < 0) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is negative");
                BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_used), (uint)id);
            }
            _used += _tokenBytes;
        }
        Tokens += ids.Length;
    }

    public void Write(int id) => Write([id]);

    /// <summary>Appends ids already encoded in this writer's width (read back from a token file).</summary>
    public void WriteEncoded(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length % _tokenBytes != 0) throw new ArgumentException($"{encoded.Length} bytes are not whole tokens of {_tokenBytes} bytes", nameof(encoded));
        FlushBuffer();
        _file.Write(encoded);
        _checksums.Append(encoded);
        Tokens += encoded.Length / _tokenBytes;
    }

    /// <summary>Writes what is buffered and forces it to disk.</summary>
    public void Commit()
    {
        FlushBuffer();
        _file.Flush(flushToDisk: true);
        _checksums.Commit();
    }

    public void Dispose()
    {
        _file.Dispose();
        _checksums.Dispose();
    }

    private void FlushBuffer()
    {
        _file.Write(_buffer, 0, _used);
        _checksums.Append(_buffer.AsSpan(0, _used));
        _used = 0;
    }
}
