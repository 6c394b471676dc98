namespace Streaming.Training.Data;

/// <summary>
/// A file stream whose single-byte reads fail past the end instead of returning -1 again and again. Parquet.Net's
/// Thrift decoder reads metadata byte by byte without checking for the end, so a damaged header (a list of two
/// billion elements) would otherwise spin through -1s for hours; with this guard it is a damaged file at once.
/// </summary>
internal sealed class EndOfFileGuardStream(FileStream file) : Stream
{
    public override int ReadByte()
    {
        var value = file.ReadByte();
        return value >= 0 ? value : throw new EndOfStreamException("metadata runs past the end of the file");
    }

    public override int Read(byte[] buffer, int offset, int count) => file.Read(buffer, offset, count);
    public override int Read(Span<byte> buffer) => file.Read(buffer);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => file.ReadAsync(buffer, cancellationToken);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => file.ReadAsync(buffer, offset, count, cancellationToken);
    public override long Seek(long offset, SeekOrigin origin) => file.Seek(offset, origin);
    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => file.Length;
    public override long Position { get => file.Position; set => file.Position = value; }
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) file.Dispose();
        base.Dispose(disposing);
    }
}
