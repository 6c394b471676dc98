using System.Text;
using Streaming.Training.Data;

namespace Streaming.Training.Tests.Data;

public class BadInputTests
{
    private static List<string> Read(string path, SkipCounts skipped, CorpusReaderOptions? options = null) =>
        new CorpusReader(path, options).ReadDocuments(skipped).Select(d => d.Text).ToList();

    [Fact]
    public void Missing_path_is_a_one_line_error()
    {
        var error = Assert.Throws<CorpusFormatException>(() => new CorpusReader("/no/such/corpus.jsonl"));
        Assert.Equal("corpus path not found: /no/such/corpus.jsonl", error.Message);
    }

    [Fact]
    public void Empty_file_named_explicitly_is_an_error()
    {
        using var temp = new TempFolder();
        var file = temp.File("empty.jsonl", "");
        var error = Assert.Throws<CorpusFormatException>(() => new CorpusReader(file));
        Assert.Equal($"{file}: empty file", error.Message);
    }

    [Fact]
    public void Binary_file_named_explicitly_is_an_error()
    {
        using var temp = new TempFolder();
        var file = temp.File("blob.txt", [1, 2, 0, 3]);
        var error = Assert.Throws<CorpusFormatException>(() => new CorpusReader(file));
        Assert.Equal($"{file}: binary file (holds NUL bytes), not text", error.Message);
    }

    [Fact]
    public void Utf16_file_named_explicitly_is_an_error_that_says_so()
    {
        using var temp = new TempFolder();
        var file = temp.File("wide.txt", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes("hello")]);
        var error = Assert.Throws<CorpusFormatException>(() => new CorpusReader(file));
        Assert.Equal($"{file}: UTF-16 text; save it as UTF-8", error.Message);
    }

    [Fact]
    public void A_file_that_is_all_invalid_utf8_fails_with_the_count_and_a_hint()
    {
        using var temp = new TempFolder();
        var latin1 = Encoding.Latin1.GetBytes("Grüße aus Köln\n\nÄrger über Öl\n");
        var file = temp.File("latin1.txt", latin1);
        var error = Assert.Throws<CorpusFormatException>(() => CorpusIngestor.Ingest(file, temp.Combine("data"), "latin", ByteTokenizer.Instance));
        Assert.Equal($"{file}: no usable documents (skipped 2 documents: 2 invalid UTF-8); the text must be UTF-8 (convert it, e.g. with iconv)", error.Message);
        Assert.False(Directory.Exists(temp.Combine("data", "corpora", "latin")));
    }

    [Fact]
    public void Unknown_extension_named_explicitly_is_an_error()
    {
        using var temp = new TempFolder();
        var file = temp.File("corpus.csv", "a,b");
        var error = Assert.Throws<CorpusFormatException>(() => new CorpusReader(file));
        Assert.Equal($"{file}: unsupported file type '.csv' (supported: .txt, .jsonl, .parquet; .txt and .jsonl also compressed: .gz, .zst)", error.Message);
    }

    [Fact]
    public void Parquet_extension_on_other_bytes_is_an_error()
    {
        using var temp = new TempFolder();
        var file = temp.File("fake.parquet", "this is not parquet at all");
        var error = Assert.Throws<CorpusFormatException>(() => Read(file, new SkipCounts()));
        Assert.Equal($"{file}: not a parquet file (no PAR1 header and footer)", error.Message);
    }

    [Fact]
    public void Invalid_utf8_documents_are_skipped_and_counted()
    {
        using var temp = new TempFolder();
        var bytes = new List<byte>();
        bytes.AddRange("good one\n\nbad "u8.ToArray());
        bytes.AddRange([0xC3, 0x28, 0xFF]);
        bytes.AddRange("\n\ngood two\n"u8.ToArray());
        var txt = temp.File("a.txt", bytes.ToArray());
        var skipped = new SkipCounts();
        Assert.Equal(["good one", "good two"], Read(txt, skipped));
        Assert.Equal(1, skipped.InvalidUtf8);

        var jsonl = temp.File("b.jsonl", [.. "{\"text\": \"ok\"}\n{\"text\": \"x"u8.ToArray(), 0xFF, .. "\"}\n"u8.ToArray()]);
        skipped = new SkipCounts();
        Assert.Equal(["ok"], Read(jsonl, skipped));
        Assert.Equal(1, skipped.InvalidUtf8);
    }

    [Fact]
    public void A_100_MB_single_line_is_skipped_without_buffering_it()
    {
        using var temp = new TempFolder();
        var file = temp.Combine("huge.jsonl");
        using (var stream = File.Create(file))
        {
            stream.Write("{\"text\": \"small before\"}\n{\"text\": \""u8);
            var chunk = Encoding.ASCII.GetBytes(new string('x', 1 << 20));
            for (var i = 0; i < 100; i++) stream.Write(chunk);
            stream.Write("\"}\n{\"text\": \"small after\"}\n"u8);
        }
        var options = new CorpusReaderOptions { MaxDocumentBytes = 1 << 20 };
        var skipped = new SkipCounts();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var documents = Read(file, skipped, options);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(["small before", "small after"], documents);
        Assert.Equal(1, skipped.TooLarge);
        Assert.True(allocated < 16L << 20, $"reading allocated {allocated >> 20} MiB for a 100 MiB line");
    }

    [Fact]
    public void An_oversized_txt_document_is_skipped_and_the_next_one_kept()
    {
        using var temp = new TempFolder();
        var file = temp.File("a.txt", new string('y', 5000) + "\n" + new string('z', 10) + "\n\nnext");
        var skipped = new SkipCounts();
        Assert.Equal(["next"], Read(file, skipped, new CorpusReaderOptions { MaxDocumentBytes = 4096 }));
        Assert.Equal(1, skipped.TooLarge);
    }

    [Fact]
    public void A_corpus_without_documents_cannot_be_ingested()
    {
        using var temp = new TempFolder();
        var file = temp.File("a.jsonl", "{\"title\": \"no text\"}\n");
        var error = Assert.Throws<CorpusFormatException>(() =>
            CorpusIngestor.Ingest(file, temp.Combine("data"), "empty", ByteTokenizer.Instance));
        Assert.StartsWith($"{file}: no usable documents (", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_corpus_name_that_is_not_a_plain_name_is_refused()
    {
        using var temp = new TempFolder();
        var file = temp.File("a.txt", "text");
        Assert.Throws<ArgumentException>(() => CorpusIngestor.Ingest(file, temp.Path, "../escape", ByteTokenizer.Instance));
    }
}
