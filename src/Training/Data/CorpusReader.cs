using Streaming.Training.Checkpoints;
using System.IO.Enumeration;

namespace Streaming.Training.Data;

/// <summary>
/// Reads the documents of a corpus from a file or a folder (walked recursively, files in ordinal
/// order of their relative paths, so the order is the same on every machine).
/// Formats by extension: .txt, .jsonl, .parquet; .txt and .jsonl also compressed (.gz, .zst: "book.txt.gz"),
/// decompressed as they are read (<see cref="DecompressingStream"/>).
/// Rule for bad input: a path given explicitly that cannot be read as a corpus (missing, empty,
/// binary, unknown extension) throws <see cref="CorpusFormatException"/>; files found while walking
/// a folder that are not corpus files are skipped and counted in <see cref="SkipCounts"/>; so are bad
/// documents inside a file (invalid UTF-8, too large, malformed JSON line, no text, empty). A damaged compressed
/// file throws wherever it is: its extension says it is a corpus file, and skipping it would lose its text unnoticed.
/// <see cref="BytesRead"/> and <see cref="TotalBytes"/> say how far an enumeration has got, for
/// progress; read them on the enumerating thread. One enumeration at a time per reader.
/// </summary>
public sealed class CorpusReader
{
    public static IReadOnlyList<string> Extensions { get; } = [".txt", ".jsonl", ".parquet"];

    private readonly string _path;
    private readonly CorpusReaderOptions _options;
    private long? _totalBytes;
    private long _bytesDone;         // files finished in the current enumeration
    private FileStream? _sequential; // the text file being read, whose position is progress
    private readonly LineBuffers _buffers = new();

    /// <exception cref="CorpusFormatException">The path does not exist, or is an unreadable file.</exception>
    public CorpusReader(string path, CorpusReaderOptions? options = null)
    {
        _options = options ?? CorpusReaderOptions.Default;
        if (_options.MaxDocumentBytes <= 0) throw new ArgumentOutOfRangeException(nameof(options), "MaxDocumentBytes must be positive");
        _path = Path.GetFullPath(path);
        if (Directory.Exists(_path)) return;
        if (!File.Exists(_path)) throw new CorpusFormatException($"corpus path not found: {path}");
        CheckExplicitFile(_path);
    }

    /// <summary>
    /// The corpus files in reading order (the path itself when it is a file). Links are followed, to files and folders,
    /// but each folder is walked once, as the file system names it (links resolved): a link to the folder itself, to one
    /// above it or to one already walked would otherwise make the walk endless or read the same files twice.
    /// </summary>
    public IEnumerable<string> Files()
    {
        if (!Directory.Exists(_path)) return [_path];
        var walked = new HashSet<string>(StringComparer.Ordinal) { ResolvedPath.Of(_path) };
        var walk = new FileSystemEnumerable<string>(_path, (ref entry) => entry.ToFullPath(),
            new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false })
        {
            ShouldIncludePredicate = (ref entry) => !entry.IsDirectory,
            ShouldRecursePredicate = (ref entry) => walked.Add(ResolvedPath.Of(entry.ToFullPath())),
        };
        return walk
            .Select(f => Path.GetRelativePath(_path, f))
            .Order(StringComparer.Ordinal)
            .Select(f => Path.Combine(_path, f));
    }

    /// <summary>Bytes of all the files under the path (skipped ones too: walking past them is progress as well).</summary>
    public long TotalBytes => _totalBytes ??= Files().Sum(f => new FileInfo(f).Length);

    /// <summary>
    /// Bytes consumed by the current enumeration: finished files plus the position in the text file being
    /// read (in a compressed file, of the compressed bytes, so that it reaches <see cref="TotalBytes"/>). A parquet
    /// file counts when it is done (its reader seeks, so a position says little).
    /// </summary>
    public long BytesRead => _bytesDone + (_sequential?.Position ?? 0);

    /// <summary>Streams the documents; each enumeration reads the files again and adds its skips to <paramref name="skipped"/>.</summary>
    public IEnumerable<CorpusDocument> ReadDocuments(SkipCounts skipped)
    {
        _bytesDone = 0;
        foreach (var file in Files())
        {
            if (ShouldRead(file, skipped))
                foreach (var document in ReadFile(file, skipped)) yield return document;
            _bytesDone += new FileInfo(file).Length;
        }
    }

    private bool ShouldRead(string file, SkipCounts skipped)
    {
        if (file == _path) return true; // checked in the constructor
        if (CorpusFileType.Of(file) is not { } type)
        {
            skipped.UnsupportedFiles++;
            return false;
        }
        if (type.Format == CorpusFileType.Parquet) return true;
        switch (Sniff(file, type))
        {
            case TextChecks.FileKind.Empty: skipped.EmptyFiles++; return false;
            case TextChecks.FileKind.Binary or TextChecks.FileKind.Utf16: skipped.BinaryFiles++; return false;
            default: return true;
        }
    }

    private IEnumerable<CorpusDocument> ReadFile(string file, SkipCounts skipped)
    {
        var type = CorpusFileType.Of(file)!; // checked by the constructor or ShouldRead
        if (type.Format == CorpusFileType.Parquet)
        {
            foreach (var document in ParquetFileReader.Read(file, _options, skipped)) yield return document;
            yield break;
        }
        // Unbuffered (buffer size 1): the line reader (or the decompressor) buffers itself, and Position is then what it has consumed.
        using var stream = CorpusFiles.OpenRead(file, 1, FileOptions.SequentialScan);
        using var text = DecompressingStream.Open(stream, type.Compression, file);
        _sequential = stream;
        try
        {
            var documents = type.Format == ".txt"
                ? TextFileReader.Read(text, file, _options, skipped, _buffers)
                : JsonLinesReader.Read(text, file, _options, skipped, _buffers);
            foreach (var document in documents) yield return document;
        }
        finally
        {
            _sequential = null;
        }
    }

    private static void CheckExplicitFile(string file)
    {
        if (CorpusFileType.Of(file) is not { } type)
            throw new CorpusFormatException($"{file}: unsupported file type '{CorpusFileType.Suffix(file)}' " +
                $"(supported: {string.Join(", ", Extensions)}; {CorpusFileType.CompressedFormats})");
        if (new FileInfo(file).Length == 0) throw new CorpusFormatException($"{file}: empty file");
        if (type.Format == CorpusFileType.Parquet) return;
        switch (Sniff(file, type))
        {
            case TextChecks.FileKind.Empty: throw new CorpusFormatException($"{file}: empty file");
            case TextChecks.FileKind.Binary: throw new CorpusFormatException($"{file}: binary file (holds NUL bytes), not text");
            case TextChecks.FileKind.Utf16: throw new CorpusFormatException($"{file}: UTF-16 text; save it as UTF-8");
        }
    }

    /// <summary>What the start of a text file's text looks like (decompressed, when it is compressed).</summary>
    private static TextChecks.FileKind Sniff(string file, CorpusFileType type)
    {
        using var stream = CorpusFiles.OpenRead(file);
        using var text = DecompressingStream.Open(stream, type.Compression, file);
        return TextChecks.Sniff(text);
    }
}
