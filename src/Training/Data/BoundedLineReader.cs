namespace Streaming.Training.Data;

/// <summary>
/// Reads a stream line by line as raw bytes (no decoding, so invalid UTF-8 can be detected and
/// counted per document) while never buffering more than <c>maxLineBytes</c> of one line: a longer
/// line is scanned to its end and reported as <see cref="LineStatus.TooLong"/> without its bytes.
/// Lines end at '\n'; a trailing '\r' is removed; a UTF-8 byte order mark at the start is dropped.
/// </summary>
internal sealed class BoundedLineReader(Stream stream, int maxLineBytes)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private bool _eof;
    private bool _atStart = true;
    private byte[] _line = new byte[Math.Min(maxLineBytes, 4096)];
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
        var length = _lineLength > 0 && _line[_lineLength - 1] == (byte)'\r' ? _lineLength - 1 : _lineLength;
        line = _line.AsMemory(0, length);
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
        if ((long)_lineLength + piece.Length > (long)maxLineBytes + 1) return false;
        if (_lineLength + piece.Length > _line.Length)
            Array.Resize(ref _line, (int)Math.Min((long)maxLineBytes + 1, Math.Max(_line.Length * 2L, _lineLength + piece.Length)));
        piece.CopyTo(_line.AsSpan(_lineLength));
        _lineLength += piece.Length;
        return true;
    }
}

internal enum LineStatus
{
    Line,
    TooLong,
    End,
}
