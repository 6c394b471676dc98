using System.IO.Compression;
using Streaming.Training.Data;

namespace Streaming.Training.Tests.Data;

/// <summary>The same text under another corpus name (by content hash), and documents repeated across corpora (document hashes).</summary>
public class DuplicateTextTests
{
    private static string Paragraphs(IEnumerable<int> ids) => string.Join("\n\n", ids.Select(i => $"paragraph {i}: {new string('p', i % 40)}"));

    [Fact]
    public void The_same_text_in_another_form_is_refused_before_anything_is_written()
    {
        using var temp = new TempFolder();
        var data = temp.Combine("data");
        var plain = temp.File("book.txt", Paragraphs(Enumerable.Range(0, 50)));
        CorpusIngestor.Ingest(plain, data, "book", ByteTokenizer.Instance);
        var packed = temp.Combine("book-copy.txt.gz");
        using (var output = File.Create(packed))
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
            gzip.Write(File.ReadAllBytes(plain));
        var options = new IngestOptions { DistinctFrom = [BlockStore.CorpusDirectory(data, "book"), temp.Combine("data", "corpora", "never-stored")] };

        var error = Assert.Throws<DuplicateCorpusException>(() => CorpusIngestor.Ingest(packed, data, "copy", ByteTokenizer.Instance, options));

        Assert.Equal("book", error.Corpus);
        Assert.Equal(["book"], Directory.EnumerateFileSystemEntries(Path.Combine(data, "corpora")).Select(Path.GetFileName));
        // Without the other corpus to differ from, the copy is stored as a corpus of its own.
        Assert.Equal("copy", CorpusIngestor.Ingest(packed, data, "copy", ByteTokenizer.Instance).Name);
    }

    [Fact]
    public void Other_text_is_stored_beside_the_corpora_it_must_differ_from()
    {
        using var temp = new TempFolder();
        var data = temp.Combine("data");
        CorpusIngestor.Ingest(temp.File("a.txt", Paragraphs(Enumerable.Range(0, 20))), data, "a", ByteTokenizer.Instance);
        var options = new IngestOptions { DistinctFrom = [BlockStore.CorpusDirectory(data, "a")] };

        var manifest = CorpusIngestor.Ingest(temp.File("b.txt", Paragraphs(Enumerable.Range(10, 20))), data, "b", ByteTokenizer.Instance, options);

        Assert.Equal(20, manifest.TrainDocuments + manifest.ValidationDocuments);
    }

    [Fact]
    public void Documents_shared_with_another_corpus_are_counted_with_their_copies()
    {
        using var temp = new TempFolder();
        var data = temp.Combine("data");
        CorpusIngestor.Ingest(temp.File("a.txt", Paragraphs(Enumerable.Range(0, 100))), data, "a", ByteTokenizer.Instance);
        // 90..99 are in a, 95 twice; 100..109 are not.
        CorpusIngestor.Ingest(temp.File("b.txt", Paragraphs([.. Enumerable.Range(90, 20), 95])), data, "b", ByteTokenizer.Instance);
        CorpusIngestor.Ingest(temp.File("c.txt", Paragraphs(Enumerable.Range(500, 10))), data, "c", ByteTokenizer.Instance);
        string Corpus(string name) => BlockStore.CorpusDirectory(data, name);

        Assert.Equal(11, DocumentHashes.CountShared(Corpus("b"), Corpus("a")));
        Assert.Equal(10, DocumentHashes.CountShared(Corpus("a"), Corpus("b")));
        Assert.Equal(0, DocumentHashes.CountShared(Corpus("c"), Corpus("a")));
        Assert.Equal(21, DocumentHashes.CountShared(Corpus("b"), Corpus("b")));
    }

    [Fact]
    public void A_corpus_stored_without_document_hashes_has_no_count()
    {
        using var temp = new TempFolder();
        var data = temp.Combine("data");
        CorpusIngestor.Ingest(temp.File("a.txt", Paragraphs(Enumerable.Range(0, 10))), data, "a", ByteTokenizer.Instance);
        CorpusIngestor.Ingest(temp.File("b.txt", Paragraphs(Enumerable.Range(0, 10))), data, "old", ByteTokenizer.Instance);
        File.Delete(Path.Combine(BlockStore.CorpusDirectory(data, "old"), DocumentHashes.FileName));

        Assert.Null(DocumentHashes.CountShared(BlockStore.CorpusDirectory(data, "a"), BlockStore.CorpusDirectory(data, "old")));
    }

    [Fact]
    public void More_documents_than_one_sorted_run_are_merged_into_one_sorted_file()
    {
        using var temp = new TempFolder();
        var data = temp.Combine("data");
        // Past the writer's 1M hashes per run in memory: two runs on disk, merged.
        const int documents = (1 << 20) + 5000;
        var file = temp.Combine("many.jsonl");
        File.WriteAllLines(file, Enumerable.Range(0, documents).Select(i => $$"""{"text": "d{{i}}"}"""));
        CorpusIngestor.Ingest(file, data, "many", ByteTokenizer.Instance);
        CorpusIngestor.Ingest(temp.File("few.jsonl", """{"text": "d17"}""" + "\n" + """{"text": "d1048600"}""" + "\n" + """{"text": "new"}"""), data, "few", ByteTokenizer.Instance);

        var directory = BlockStore.CorpusDirectory(data, "many");
        var bytes = File.ReadAllBytes(Path.Combine(directory, DocumentHashes.FileName));
        var hashes = Enumerable.Range(0, bytes.Length / 8).Select(i => BitConverter.ToUInt64(bytes, i * 8)).ToList();
        Assert.Equal(documents, hashes.Count);
        Assert.Equal(hashes.Order(), hashes);
        Assert.Equal([DocumentHashes.FileName, CorpusManifest.FileName, CorpusIngestor.TrainFile, TokenChecksums.PathOf(CorpusIngestor.TrainFile),
            CorpusIngestor.ValidationFile, TokenChecksums.PathOf(CorpusIngestor.ValidationFile)],
            Directory.EnumerateFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(2, DocumentHashes.CountShared(BlockStore.CorpusDirectory(data, "few"), directory));
    }
}
