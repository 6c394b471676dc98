namespace Streaming.Training.Data;

/// <summary>
/// Reads a .txt file: by default documents are groups of lines separated by one or more blank lines
/// (lines inside a document are joined with '\n'); with <see cref="TextDocumentMode.WholeFile"/> the
/// file is one document. Streams; holds at most one document (capped) in memory.
/// </summary>
internal static class TextFileReader
{
    /// <param name="path">Names the file in each document's source.</param>
    /// <param name="buffers">The calling reader's line buffers, reused from file to file.</param>
    public static IEnumerable<CorpusDocument> Read(Stream stream, string path, CorpusReaderOptions options, SkipCounts skipped, LineBuffers buffers)
    {
        var lines = new BoundedLineReader(stream, options.MaxDocumentBytes, buffers);
        var document = new DocumentBuffer(options.MaxDocumentBytes);
        var firstLine = 1L;
        while (true)
        {
            var status = lines.ReadLine(out var line);
            var blank = status == LineStatus.Line && IsBlank(line.Span);
            var boundary = status == LineStatus.End || (blank && options.TextMode == TextDocumentMode.BlankLineSeparated);
            if (boundary)
            {
                if (!document.IsEmpty)
                {
                    var text = document.Take(skipped, options.MaxDocumentBytes);
                    if (text is not null) yield return new CorpusDocument($"{path}:{firstLine}", text);
                }
                if (status == LineStatus.End) yield break;
                firstLine = lines.LineNumber + 1;
                continue;
            }
            if (document.IsEmpty && options.TextMode == TextDocumentMode.BlankLineSeparated) firstLine = lines.LineNumber;
            if (status == LineStatus.TooLong) document.MarkTooLarge();
            else document.AppendLine(line.Span);
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\f' or (byte)'\v')) return false;
        return true;
    }

    /// <summary>The bytes of the document being collected, up to the cap; past it, only a flag.</summary>
    private sealed class DocumentBuffer(int maxBytes)
    {
        private readonly MemoryStream _bytes = new();
        private bool _tooLarge;
        private bool _any;

        public bool IsEmpty => !_any;

        public void MarkTooLarge()
        {
            _any = true;
            _tooLarge = true;
            _bytes.SetLength(0);
        }

        public void AppendLine(ReadOnlySpan<byte> line)
        {
            var wasEmpty = !_any;
            _any = true;
            if (_tooLarge) return;
            if (_bytes.Length + line.Length + 1 > maxBytes + 1L)
            {
                MarkTooLarge();
                return;
            }
            if (!wasEmpty) _bytes.WriteByte((byte)'\n');
            _bytes.Write(line);
        }

        public string? Take(SkipCounts skipped, int maxDocumentBytes)
        {
            string? text = null;
            if (_tooLarge) skipped.TooLarge++;
            else text = TextChecks.Decode(_bytes.GetBuffer().AsSpan(0, (int)_bytes.Length), maxDocumentBytes, skipped);
            _bytes.SetLength(0);
            _tooLarge = false;
            _any = false;
            return text;
        }
    }
}
