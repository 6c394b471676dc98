using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using ZstdSharp;

namespace Streaming.Training.Data;

/// <summary>
/// The text of a compressed corpus file, decompressed as it is read: never to disk, never whole into memory (gzip
/// keeps a 32 KiB window; zstd at most the 128 MiB window its decoder allows by default). The readers' limits then
/// apply to the decompressed bytes, so a compression bomb is one oversized document, skipped and counted.
/// Every way the file can be damaged (wrong magic bytes, corrupt data, a truncated end) is one
/// <see cref="CorpusFormatException"/> line, "'PATH' is not a valid gzip stream: ...". GZipStream ends a truncated
/// file silently, so gzip text is checked against the file's trailer (RFC 1952: CRC-32 and length of the text) when
/// it has been read to its end; that holds for a file of one gzip member, as gzip, pigz and Python write them.
/// </summary>
internal sealed class DecompressingStream : Stream
{
    private static readonly byte[] GzipMagic = [0x1F, 0x8B];
    private const uint ZstdMagic = 0xFD2FB528;
    private const uint ZstdSkippableMagic = 0x184D2A50; // the low 4 bits vary
    private const int GzipTrailerBytes = 8;

    private readonly Stream _decoder;
    private readonly string _path;
    private readonly string _format;
    private readonly Crc32? _crc; // gzip only
    private readonly uint _trailerCrc;
    private readonly uint _trailerLength;
    private long _length;
    private bool _checked;

    /// <summary>
    /// The text of <paramref name="file"/> (positioned at its start): the file itself when it is not compressed. The
    /// caller disposes the file; disposing the result leaves it open.
    /// </summary>
    public static Stream Open(FileStream file, Compression compression, string path) =>
        compression == Compression.None ? file : new DecompressingStream(file, compression, path);

    private DecompressingStream(FileStream file, Compression compression, string path)
    {
        _path = path;
        Span<byte> head = stackalloc byte[4];
        var headBytes = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..headBytes];
        if (compression == Compression.Gzip)
        {
            _format = "gzip";
            if (!head.StartsWith(GzipMagic)) throw Invalid("it does not start with gzip's magic bytes 1f 8b");
            // The smallest gzip file: a 10-byte header, an empty deflate block (2 bytes), the trailer.
            if (file.Length < 10 + 2 + GzipTrailerBytes) throw Invalid("truncated (shorter than a gzip header and trailer)");
            Span<byte> trailer = stackalloc byte[GzipTrailerBytes];
            file.Seek(-GzipTrailerBytes, SeekOrigin.End);
            file.ReadExactly(trailer);
            _trailerCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            _trailerLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
            _crc = new Crc32();
            file.Seek(0, SeekOrigin.Begin);
            _decoder = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
        }
        else
        {
            _format = "zstd";
            var magic = head.Length == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(head) : 0;
            if (magic != ZstdMagic && (magic & 0xFFFFFFF0) != ZstdSkippableMagic)
                throw Invalid("it does not start with zstd's magic bytes 28 b5 2f fd");
            file.Seek(0, SeekOrigin.Begin);
            _decoder = new DecompressionStream(file, checkEndOfStream: true, leaveOpen: true);
        }
    }

    public override int Read(Span<byte> buffer)
    {
        int read;
        try
        {
            read = _decoder.Read(buffer);
        }
        catch (InvalidDataException e)
        {
            // GZipStream says "unsupported compression method" for any damage inside the data.
            throw Invalid($"damaged data ({e.Message.TrimEnd('.')})");
        }
        catch (ZstdException e)
        {
            throw Invalid($"damaged data ({e.Message.TrimEnd('.')})");
        }
        catch (EndOfStreamException)
        {
            throw Invalid("truncated (it ends inside a frame)");
        }
        if (_crc is null) return read;
        if (read > 0)
        {
            _crc.Append(buffer[..read]);
            _length += read;
        }
        else if (!_checked)
        {
            _checked = true;
            if (_crc.GetCurrentHashAsUInt32() != _trailerCrc || (uint)_length != _trailerLength)
                throw Invalid("truncated or damaged (its text does not match the length and CRC-32 in its trailer; " +
                    "a file of several gzip members, as bgzip or cat write them, cannot be checked: recompress it with gzip)");
        }
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    private CorpusFormatException Invalid(string why) => new($"'{_path}' is not a valid {_format} stream: {why}");

    protected override void Dispose(bool disposing)
    {
        if (disposing) _decoder.Dispose();
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
