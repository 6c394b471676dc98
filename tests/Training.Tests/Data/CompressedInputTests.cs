using System.IO.Compression;
using System.Text;
using Streaming.Training.Data;
using ZstdSharp;

namespace Streaming.Training.Tests.Data;

public class CompressedInputTests
{
    /// <summary>Writes <paramref name="source"/> compressed next to it as SOURCE.gz or SOURCE.zst; returns that path.</summary>
    private static string Compress(string source, string suffix, string? target = null)
    {
        target ??= source + suffix;
        using var input = File.OpenRead(source);
        using var output = File.Create(target);
        using Stream compressor = suffix == ".gz" ? new GZipStream(output, CompressionLevel.Fastest) : new CompressionStream(output, 3);
        input.CopyTo(compressor);
        return target;
    }

    private static byte[] Stored(string data, string name, string file) => File.ReadAllBytes(Path.Combine(BlockStore.CorpusDirectory(data, name), file));

    /// <summary>A corpus with every kind of bad document, so that the compressed form must count the same skips.</summary>
    private static string Lines(string format) => format == ".jsonl"
        ? string.Join("\n", Enumerable.Range(0, 400).Select(i => i % 50 == 7 ? "{\"text\": broken" : $$"""{"text": "document {{i}}: {{new string('x', i % 90)}}"}"""))
        : string.Join("\n\n", Enumerable.Range(0, 400).Select(i => i % 50 == 7 ? new string('y', 5000) : $"paragraph {i}\n{new string('z', i % 70)}"));

    [Theory]
    [InlineData(".jsonl", ".zst")]
    [InlineData(".txt", ".gz")]
    [InlineData(".jsonl", ".gz")]
    [InlineData(".txt", ".zst")]
    public void A_compressed_file_stores_exactly_the_tokens_of_its_uncompressed_form(string format, string compression)
    {
        using var temp = new TempFolder();
        var plain = temp.File("corpus" + format, Lines(format));
        var compressed = Compress(plain, compression);
        var data = temp.Combine("data");
        var options = new IngestOptions { BlockSize = 64, Reader = new CorpusReaderOptions { MaxDocumentBytes = 4096 } };

        var expected = CorpusIngestor.Ingest(plain, data, "plain", ByteTokenizer.Instance, options);
        var actual = CorpusIngestor.Ingest(compressed, data, "compressed", ByteTokenizer.Instance, options);

        Assert.Equal(expected with { Name = "compressed" }, actual);
        Assert.True(actual.Skipped.MalformedJson + actual.Skipped.TooLarge == 8, actual.Skipped.ToString());
        Assert.Equal(Stored(data, "plain", CorpusIngestor.TrainFile), Stored(data, "compressed", CorpusIngestor.TrainFile));
        Assert.Equal(Stored(data, "plain", CorpusIngestor.ValidationFile), Stored(data, "compressed", CorpusIngestor.ValidationFile));
    }

    [Fact]
    public void A_folder_reads_its_compressed_files_like_plain_ones_and_progress_counts_compressed_bytes()
    {
        using var temp = new TempFolder();
        var english = temp.File("plain/english.jsonl", File.ReadAllBytes(SampleCorpora.File("english")));
        var notes = temp.File("plain/notes.txt", Lines(".txt"));
        Directory.CreateDirectory(temp.Combine("packed"));
        Compress(english, ".zst", temp.Combine("packed", "english.jsonl.zst"));
        Compress(notes, ".gz", temp.Combine("packed", "notes.txt.gz"));
        temp.File("packed/table.csv.gz", "a,b");
        var data = temp.Combine("data");
        var reports = new List<IngestProgress>();

        var expected = CorpusIngestor.Ingest(temp.Combine("plain"), data, "plain", ByteTokenizer.Instance);
        var actual = CorpusIngestor.Ingest(temp.Combine("packed"), data, "packed", ByteTokenizer.Instance, progress: new Recorder(reports));

        Assert.Equal(expected.SourceHash, actual.SourceHash);
        Assert.Equal(expected.Skipped with { UnsupportedFiles = 1 }, actual.Skipped);
        Assert.Equal(Stored(data, "plain", CorpusIngestor.TrainFile), Stored(data, "packed", CorpusIngestor.TrainFile));
        var compressedBytes = Directory.EnumerateFiles(temp.Combine("packed")).Sum(f => new FileInfo(f).Length);
        Assert.All(reports, r => Assert.Equal(compressedBytes, r.TotalBytes));
        Assert.All(reports, r => Assert.InRange(r.BytesRead, 0, compressedBytes));
        Assert.Equal(compressedBytes, reports[^1].BytesRead);
    }

    [Theory]
    [InlineData(".txt.gz", "truncated or damaged")]
    [InlineData(".jsonl.zst", "truncated")]
    public void A_truncated_file_is_one_error_and_stores_nothing(string suffix, string why)
    {
        using var temp = new TempFolder();
        var format = Path.GetFileNameWithoutExtension(suffix);
        var whole = File.ReadAllBytes(Compress(temp.File("plain" + format, Lines(format)), Path.GetExtension(suffix)));
        var file = temp.File("book" + suffix, whole[..(whole.Length / 2)]);
        var data = temp.Combine("data");

        var error = Assert.Throws<CorpusFormatException>(() => CorpusIngestor.Ingest(file, data, "book", ByteTokenizer.Instance));

        Assert.StartsWith($"'{file}' is not a valid {(suffix.EndsWith(".gz") ? "gzip" : "zstd")} stream: {why}", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(Directory.Exists(Path.Combine(data, "corpora")) && Directory.EnumerateFileSystemEntries(Path.Combine(data, "corpora")).Any());
    }

    [Theory]
    [InlineData("book.txt.gz", "gzip", "it does not start with gzip's magic bytes 1f 8b")]
    [InlineData("book.jsonl.zst", "zstd", "it does not start with zstd's magic bytes 28 b5 2f fd")]
    public void A_file_that_is_not_what_its_name_says_is_one_error_even_in_a_folder(string name, string format, string why)
    {
        using var temp = new TempFolder();
        var file = temp.File("corpus/" + name, "plain text, never compressed\n");
        temp.File("corpus/good.txt", "a good document");

        var explicitly = Assert.Throws<CorpusFormatException>(() => new CorpusReader(file));
        var inFolder = Assert.Throws<CorpusFormatException>(() => new CorpusReader(temp.Combine("corpus")).ReadDocuments(new SkipCounts()).ToList());

        Assert.Equal($"'{file}' is not a valid {format} stream: {why}", explicitly.Message);
        Assert.Equal(explicitly.Message, inFolder.Message);
    }

    [Fact]
    public void A_corrupted_gzip_file_is_one_error()
    {
        using var temp = new TempFolder();
        var bytes = File.ReadAllBytes(Compress(temp.File("book.txt", Lines(".txt")), ".gz"));
        for (var i = bytes.Length / 2; i < bytes.Length / 2 + 16; i++) bytes[i] ^= 0x5A;
        var file = temp.File("damaged.txt.gz", bytes);

        var error = Assert.Throws<CorpusFormatException>(() => CorpusIngestor.Ingest(file, temp.Combine("data"), "damaged", ByteTokenizer.Instance));

        Assert.StartsWith($"'{file}' is not a valid gzip stream: ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Compressed_text_that_is_empty_or_binary_is_refused_like_plain_text()
    {
        using var temp = new TempFolder();
        var empty = Compress(temp.File("empty.txt", ""), ".gz");
        var binary = Compress(temp.File("blob.jsonl", [1, 2, 0, 3]), ".zst");

        Assert.Equal($"{empty}: empty file", Assert.Throws<CorpusFormatException>(() => new CorpusReader(empty)).Message);
        Assert.Equal($"{binary}: binary file (holds NUL bytes), not text", Assert.Throws<CorpusFormatException>(() => new CorpusReader(binary)).Message);
    }

    [Theory]
    [InlineData(".gz")]
    [InlineData(".zst")]
    public void A_compression_bomb_is_one_oversized_document_and_memory_stays_bounded(string compression)
    {
        using var temp = new TempFolder();
        // 200 MB of one character between two documents: a few hundred KB compressed.
        var file = temp.Combine("bomb.txt" + compression);
        using (var output = File.Create(file))
        using (Stream compressor = compression == ".gz" ? new GZipStream(output, CompressionLevel.Fastest) : new CompressionStream(output, 1))
        {
            compressor.Write("first document\n\n"u8);
            var chunk = Encoding.ASCII.GetBytes(new string('a', 1 << 20));
            for (var i = 0; i < 200; i++) compressor.Write(chunk);
            compressor.Write("\n\nlast document\n"u8);
        }
        Assert.True(new FileInfo(file).Length < 2 << 20);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var manifest = CorpusIngestor.Ingest(file, temp.Combine("data"), "bomb", ByteTokenizer.Instance);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(1, manifest.Skipped.TooLarge);
        Assert.Equal(2, manifest.TrainDocuments + manifest.ValidationDocuments);
        // The 16 MiB document limit bounds the line buffer; the 200 MB are scanned, never held.
        Assert.True(allocated < 48L << 20, $"ingest allocated {allocated >> 20} MiB for a 200 MB compressed line");
    }

    private sealed class Recorder(List<IngestProgress> reports) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) => reports.Add(value);
    }
}
