using Streaming.Training.Data;

namespace Streaming.Training.Tests.Data;

public class BlockStoreTests
{
    private static string WriteCorpus(TempFolder temp, int documents)
    {
        var lines = Enumerable.Range(0, documents).Select(i =>
            System.Text.Json.JsonSerializer.Serialize(new { text = $"Dokument {i}: " + string.Concat(Enumerable.Repeat("Grüße ", i % 7 + 1)) }));
        return temp.File("corpus.jsonl", string.Join("\n", lines));
    }

    private static List<int> AllTokens(BlockStore store, bool validation)
    {
        var tokens = new List<int>();
        var blocks = validation ? store.ValidationBlockCount : store.TrainBlockCount;
        for (long i = 0; i < blocks; i++) tokens.AddRange(validation ? store.ReadValidationBlock(i) : store.ReadBlock(i));
        return tokens;
    }

    [Theory]
    [InlineData("byte", 64, 2)]
    [InlineData("cl100k_base", 16, 4)]
    public void Blocks_round_trip_every_document_and_count_tokens_exactly(string tokenizerName, int blockSize, int tokenBytes)
    {
        using var temp = new TempFolder();
        var source = WriteCorpus(temp, 200);
        var tokenizer = Tokenizers.Create(tokenizerName);
        var manifest = CorpusIngestor.Ingest(source, temp.Combine("data"), "demo", tokenizer, new IngestOptions { BlockSize = blockSize });

        using var store = BlockStore.Open(temp.Combine("data"), "demo");
        Assert.Equal(manifest, store.Manifest);
        Assert.Equal(tokenBytes, store.Manifest.TokenBytes);
        Assert.Equal(200, manifest.TrainDocuments + manifest.ValidationDocuments);
        Assert.True(manifest.ValidationDocuments >= 1);

        var train = AllTokens(store, validation: false);
        var validation = AllTokens(store, validation: true);
        Assert.Equal(store.TrainTokens, train.Count);
        Assert.Equal(store.ValidationTokens, validation.Count);
        Assert.Equal((store.TrainTokens + blockSize - 1) / blockSize, store.TrainBlockCount);
        for (long i = 0; i < store.TrainBlockCount - 1; i++) Assert.Equal(blockSize, store.BlockLength(i));

        // Every document comes back, in order, on the side the split put it.
        var documents = new CorpusReader(source).ReadDocuments(new SkipCounts()).Select(d => d.Text).ToList();
        var split = DocumentSplit.Plan(documents.Select(DocumentSplit.Hash), manifest.ValidationFraction);
        Assert.Equal(Expected(documents.Where(d => !split.IsValidation(DocumentSplit.Hash(d))), tokenizer), train);
        Assert.Equal(Expected(documents.Where(d => split.IsValidation(DocumentSplit.Hash(d))), tokenizer), validation);
    }

    private static List<int> Expected(IEnumerable<string> documents, ITokenizer tokenizer)
    {
        var tokens = new List<int>();
        foreach (var document in documents)
        {
            tokens.AddRange(tokenizer.Encode(document));
            if (tokenizer.EndOfTextId is { } eot) tokens.Add(eot);
        }
        return tokens;
    }

    [Fact]
    public void Byte_level_blocks_decode_back_to_the_documents_back_to_back()
    {
        using var temp = new TempFolder();
        var source = temp.File("a.txt", "erstes Dokument\n\nzweites Dokument\n\ndrittes");
        var manifest = CorpusIngestor.Ingest(source, temp.Path, "bytes", ByteTokenizer.Instance, new IngestOptions { BlockSize = 5 });
        Assert.Equal((1, 2), (manifest.ValidationDocuments, manifest.TrainDocuments));
        using var store = BlockStore.Open(temp.Path, "bytes");
        var train = ByteTokenizer.Instance.Decode(AllTokens(store, false).ToArray());
        var validation = ByteTokenizer.Instance.Decode(AllTokens(store, true).ToArray());
        // No separator at byte level: the train part is its documents concatenated in reading order.
        var all = new[] { "erstes Dokument", "zweites Dokument", "drittes" };
        Assert.Contains(validation, all);
        Assert.Equal(string.Concat(all.Where(d => d != validation)), train);
    }

    [Fact]
    public void Reading_past_the_last_block_is_an_error()
    {
        using var temp = new TempFolder();
        CorpusIngestor.Ingest(WriteCorpus(temp, 10), temp.Path, "c", ByteTokenizer.Instance, new IngestOptions { BlockSize = 32 });
        using var store = BlockStore.Open(temp.Path, "c");
        Assert.Throws<ArgumentOutOfRangeException>(() => store.ReadBlock(store.TrainBlockCount));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.ReadBlock(-1));
    }

    [Fact]
    public void Ingest_is_atomic_and_idempotent_and_refuses_to_replace_silently()
    {
        using var temp = new TempFolder();
        var source = WriteCorpus(temp, 20);
        var data = temp.Combine("data");
        var first = CorpusIngestor.Ingest(source, data, "c", ByteTokenizer.Instance);
        var again = CorpusIngestor.Ingest(source, data, "c", ByteTokenizer.Instance);
        Assert.Equal(first, again);
        Assert.Equal(["c"], Directory.GetDirectories(Path.Combine(data, "corpora")).Select(Path.GetFileName));

        var other = temp.File("other.txt", "a different corpus");
        var error = Assert.Throws<CorpusExistsException>(() => CorpusIngestor.Ingest(other, data, "c", ByteTokenizer.Instance));
        Assert.Contains("already stored", error.Message);

        var replaced = CorpusIngestor.Ingest(other, data, "c", ByteTokenizer.Instance, new IngestOptions { Overwrite = true });
        Assert.Equal(18, replaced.TrainTokens + replaced.ValidationTokens);
        Assert.Equal(["c"], Directory.GetDirectories(Path.Combine(data, "corpora")).Select(Path.GetFileName));
        using var store = BlockStore.Open(data, "c");
        Assert.Equal(replaced, store.Manifest);
    }

    [Fact]
    public void Opening_a_damaged_store_is_a_one_line_error()
    {
        using var temp = new TempFolder();
        CorpusIngestor.Ingest(WriteCorpus(temp, 10), temp.Path, "c", ByteTokenizer.Instance);
        var directory = BlockStore.CorpusDirectory(temp.Path, "c");
        File.WriteAllBytes(Path.Combine(directory, CorpusIngestor.TrainFile), [1, 2, 3]);
        var error = Assert.Throws<CorpusFormatException>(() => BlockStore.Open(directory));
        Assert.Contains("but the manifest says", error.Message);

        var missing = Assert.Throws<CorpusFormatException>(() => BlockStore.Open(temp.Combine("nothing")));
        Assert.EndsWith("no stored corpus here (manifest.json missing)", missing.Message);
    }
}
