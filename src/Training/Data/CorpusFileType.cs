namespace Streaming.Training.Data;

/// <summary>
/// What a corpus file holds, by its name: a format (<see cref="CorpusReader.Extensions"/>) and, for the text formats,
/// a compression around it ("book.txt.gz", "corpus.jsonl.zst"). Parquet compresses inside the file, so ".parquet.gz" is
/// not a corpus file.
/// </summary>
internal sealed record CorpusFileType(string Format, Compression Compression)
{
    public const string Parquet = ".parquet";

    /// <summary>The text formats that may be compressed, and the compressions, for messages.</summary>
    public const string CompressedFormats = ".txt and .jsonl also compressed: .gz, .zst";

    /// <summary>The file's type, or null when its name is not that of a corpus file.</summary>
    public static CorpusFileType? Of(string path)
    {
        var last = Path.GetExtension(path).ToLowerInvariant();
        var compression = last switch
        {
            ".gz" => Compression.Gzip,
            ".zst" => Compression.Zstd,
            _ => Compression.None,
        };
        if (compression == Compression.None) return CorpusReader.Extensions.Contains(last) ? new CorpusFileType(last, compression) : null;
        var format = Path.GetExtension(Path.GetFileNameWithoutExtension(path)).ToLowerInvariant();
        return format is ".txt" or ".jsonl" ? new CorpusFileType(format, compression) : null;
    }

    /// <summary>The extension a message names: the format's and the compression's (".csv.gz"), or the last one.</summary>
    public static string Suffix(string path)
    {
        var last = Path.GetExtension(path);
        return last.ToLowerInvariant() is ".gz" or ".zst" ? Path.GetExtension(Path.GetFileNameWithoutExtension(path)) + last : last;
    }
}

internal enum Compression
{
    None,
    Gzip,
    Zstd,
}
