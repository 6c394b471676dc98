namespace Streaming.Training.Data;

/// <summary>
/// Reads a stream line by line as raw bytes (no decoding, so invalid UTF-8 can be detected and
/// counted per document) while never buffering more than <c>maxLineBytes</c> of one line: a longer
/// line is scanned to its end and reported as <see cref="LineStatus.TooLong"/> without its bytes.
/// Lines end at '\n'; a trailing '\r' is removed; a UTF-8 byte order mark at the start is dropped.
/// Memory: the 64 KiB read buffer and the line buffer come from <see cref="LineBuffers"/>, which a
/// <see cref="CorpusReader"/> keeps for all its files and passes, so a long line costs its bytes once.
/// </summary>
internal sealed class BoundedLineReader(Stream stream, int maxLineBytes, LineBuffers buffers)
{
    private readonly byte[] _buffer = buffers.Read;
    private int _start;
    private int _end;
    private bool _eof;
    private bool _atStart = true;
    private int _lineLength;

    /// <summary>1-based number of the line returned last.</summary>
    public long LineNumber { get; private set; }

    public LineStatus ReadLine(out ReadOnlyMemory<byte> line)
    {
        line = ReadOnlyMemory<byte>.Empty;
        _lineLength = 0;
        var tooLong = false;
        var sawAnything = false;
        while (true)
        {
            if (_start == _end)
            {
                if (_eof || !Fill())
                {
                    if (!sawAnything) return LineStatus.End;
                    break; // last line without a final newline
                }
            }
            sawAnything = true;
            var span = _buffer.AsSpan(_start, _end - _start);
            var newline = span.IndexOf((byte)'\n');
            var piece = newline >= 0 ? span[..newline] : span;
            if (!tooLong) tooLong = !Append(piece);
            _start += newline >= 0 ? newline + 1 : span.Length;
            if (newline >= 0) break;
        }
        LineNumber++;
        if (tooLong) return LineStatus.TooLong;
        var bytes = buffers.Line;
        var length = _lineLength > 0 && bytes[_lineLength - 1] == (byte)'\r' ? _lineLength - 1 : _lineLength;
        line = bytes.AsMemory(0, length);
        return LineStatus.Line;
    }

    private bool Fill()
    {
        _start = 0;
        _end = stream.Read(_buffer, 0, _buffer.Length);
        if (_end == 0)
        {
            _eof = true;
            return false;
        }
        if (_atStart)
        {
            _atStart = false;
            if (_end >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF) _start = 3;
        }
        return true;
    }

    /// <returns>false when the line would pass the cap (then nothing more is kept).</returns>
    private bool Append(ReadOnlySpan<byte> piece)
    {
        // "+ 1" leaves room for a '\r' that is stripped afterwards.
        var cap = (long)maxLineBytes + 1;
        if ((long)_lineLength + piece.Length > cap) return false;
        buffers.EnsureLine(_lineLength, _lineLength + piece.Length, (int)cap);
        piece.CopyTo(buffers.Line.AsSpan(_lineLength));
        _lineLength += piece.Length;
        return true;
    }
}

/// <summary>
/// The buffers of the line readers of one <see cref="CorpusReader"/> (one file at a time). The line
/// buffer doubles up to 1 MiB, then jumps to the cap: a long line then costs one buffer of the cap,
/// not the cap again in the outgrown halves.
/// </summary>
internal sealed class LineBuffers
{
    private const int DoublingLimit = 1 << 20;

    public byte[] Read { get; } = new byte[64 * 1024];

    public byte[] Line { get; private set; } = new byte[4096];

    /// <summary>Makes <see cref="Line"/> hold <paramref name="needed"/> bytes, keeping the first <paramref name="keep"/>.</summary>
    public void EnsureLine(int keep, int needed, int cap)
    {
        if (needed <= Line.Length) return;
        var size = Math.Max(needed, Line.Length * 2L);
        if (size > DoublingLimit) size = Math.Max(needed, cap);
        var grown = new byte[size];
        Line.AsSpan(0, keep).CopyTo(grown);
        Line = grown;
    }
}

internal enum LineStatus
{
    Line,
    TooLong,
    End,
}
