using System.Text;
using Streaming.Training.Data;

namespace Streaming.Training.Tests.Data;

/// <summary>
/// Corpora the document split cannot divide (one document: a book without blank lines, one long line) hold out whole
/// blocks of their token stream: disjoint from train, complete, the same on every ingest; too small ones say why not.
/// </summary>
public class BlockSplitTests
{
    private const int BlockSize = 64;

    /// <summary>A .txt of one document: lines without a blank line between them, or all of it on one line.</summary>
    private static string OneDocument(TempFolder temp, string layout, int lines)
    {
        var separator = layout == "one-line" ? " " : "\n";
        var text = string.Join(separator, Enumerable.Range(0, lines).Select(i => $"Zeile {i}: der {i % 13}. Satz über Grüße"));
        return temp.File($"{layout}.txt", text);
    }

    private static int[] StreamOf(string source, ITokenizer tokenizer)
    {
        var document = Assert.Single(new CorpusReader(source).ReadDocuments(new SkipCounts())).Text;
        return [.. tokenizer.Encode(document), .. tokenizer.EndOfTextId is { } eot ? [eot] : Array.Empty<int>()];
    }

    private static List<int[]> Blocks(BlockStore store, bool validation)
    {
        var count = validation ? store.ValidationBlockCount : store.TrainBlockCount;
        return [.. Enumerable.Range(0, (int)count).Select(i => validation ? store.ReadValidationBlock(i) : store.ReadBlock(i))];
    }

    [Theory]
    [InlineData("lines", "byte")]
    [InlineData("one-line", "byte")]
    [InlineData("lines", "cl100k_base")]
    [InlineData("one-line", "cl100k_base")]
    public void One_document_holds_out_whole_blocks_and_every_token_is_on_exactly_one_side(string layout, string tokenizerName)
    {
        using var temp = new TempFolder();
        var source = OneDocument(temp, layout, 300);
        var tokenizer = Tokenizers.Create(tokenizerName);
        var manifest = CorpusIngestor.Ingest(source, temp.Combine("data"), "book", tokenizer, new IngestOptions { BlockSize = BlockSize });

        Assert.Equal(ValidationSplit.Blocks, manifest.ValidationSplit);
        Assert.Null(manifest.MissingValidation());
        var stream = StreamOf(source, tokenizer);
        var plan = BlockSplit.Plan(stream.Length, BlockSize, manifest.ValidationFraction)!;
        Assert.Equal(plan.ValidationBlocks * BlockSize, manifest.ValidationTokens);
        Assert.Equal(stream.Length, manifest.TrainTokens + manifest.ValidationTokens);

        // Put the stream together again, each whole block from the side the plan gives it: exactly the document's tokens.
        using var store = BlockStore.Open(temp.Combine("data"), "book");
        var train = Blocks(store, validation: false).SelectMany(b => b).ToArray();
        var validation = new Queue<int[]>(Blocks(store, validation: true));
        Assert.All(validation, b => Assert.Equal(BlockSize, b.Length));
        var rebuilt = new List<int>();
        var trainAt = 0;
        for (long i = 0; i < plan.Blocks; i++)
        {
            if (plan.IsValidation(i)) rebuilt.AddRange(validation.Dequeue());
            else
            {
                rebuilt.AddRange(train.AsSpan(trainAt, BlockSize).ToArray());
                trainAt += BlockSize;
            }
        }
        rebuilt.AddRange(train[trainAt..]);
        Assert.Empty(validation);
        Assert.Equal(stream, rebuilt);
    }

    [Theory]
    [InlineData("lines")]
    [InlineData("one-line")]
    public void The_block_split_is_the_same_on_every_ingest_of_the_same_bytes(string layout)
    {
        using var temp = new TempFolder();
        var source = OneDocument(temp, layout, 300);
        var options = new IngestOptions { BlockSize = BlockSize };
        var first = CorpusIngestor.Ingest(source, temp.Combine("first"), "book", ByteTokenizer.Instance, options);
        var second = CorpusIngestor.Ingest(source, temp.Combine("second"), "book", ByteTokenizer.Instance, options);
        Assert.Equal(first, second);
        foreach (var file in new[] { CorpusIngestor.TrainFile, CorpusIngestor.ValidationFile })
            Assert.Equal(File.ReadAllBytes(Path.Combine(BlockStore.CorpusDirectory(temp.Combine("first"), "book"), file)),
                File.ReadAllBytes(Path.Combine(BlockStore.CorpusDirectory(temp.Combine("second"), "book"), file)));
        Assert.Equal(first, CorpusIngestor.Ingest(source, temp.Combine("first"), "book", ByteTokenizer.Instance, options));
    }

    [Theory]
    [InlineData(-1, ValidationSplit.None)]
    [InlineData(0, ValidationSplit.Blocks)]
    public void One_document_needs_a_block_to_train_and_one_to_validate(int tokensOverMinimum, ValidationSplit expected)
    {
        using var temp = new TempFolder();
        var length = (int)BlockSplit.MinimumTokens(BlockSize) + tokensOverMinimum;
        var source = temp.File("short.txt", new string('a', length - 1) + "z");
        var manifest = CorpusIngestor.Ingest(source, temp.Path, "short", ByteTokenizer.Instance, new IngestOptions { BlockSize = BlockSize });
        Assert.Equal(expected, manifest.ValidationSplit);
        Assert.Equal(length, manifest.TrainTokens + manifest.ValidationTokens);
    }

    [Fact]
    public void A_document_too_small_to_split_trains_whole_and_says_why_in_one_line()
    {
        using var temp = new TempFolder();
        var source = temp.File("tiny.txt", "Ein einziger kurzer Satz.");
        var manifest = CorpusIngestor.Ingest(source, temp.Path, "tiny", ByteTokenizer.Instance, new IngestOptions { BlockSize = BlockSize });
        Assert.Equal((0L, (long)Encoding.UTF8.GetByteCount("Ein einziger kurzer Satz.")), (manifest.ValidationTokens, manifest.TrainTokens));
        var why = manifest.MissingValidation()!;
        Assert.StartsWith("no validation split: corpus tiny is one document of ", why);
        Assert.Contains($"it needs {BlockSplit.MinimumTokens(BlockSize):N0} tokens", why);
        Assert.DoesNotContain('\n', why);
    }

    [Fact]
    public void Copies_of_one_document_are_split_by_blocks_too()
    {
        using var temp = new TempFolder();
        var paragraph = string.Join("\n", Enumerable.Range(0, 20).Select(i => $"Zeile {i} eines Absatzes"));
        var source = temp.File("copies.txt", string.Join("\n\n", Enumerable.Repeat(paragraph, 5)));
        var manifest = CorpusIngestor.Ingest(source, temp.Path, "copies", ByteTokenizer.Instance, new IngestOptions { BlockSize = BlockSize });
        Assert.Equal(ValidationSplit.Blocks, manifest.ValidationSplit);
        Assert.True(manifest.ValidationTokens >= BlockSize);
    }

    [Fact]
    public void Several_documents_keep_the_document_split()
    {
        using var temp = new TempFolder();
        var documents = Enumerable.Range(0, 3).Select(i => $"Dokument {i}: " + string.Concat(Enumerable.Repeat("Text ", 40))).ToList();
        var source = temp.File("three.txt", string.Join("\n\n", documents));
        var manifest = CorpusIngestor.Ingest(source, temp.Path, "three", ByteTokenizer.Instance, new IngestOptions { BlockSize = BlockSize });
        var split = DocumentSplit.Plan(documents.Select(DocumentSplit.Hash), manifest.ValidationFraction);
        Assert.Equal(ValidationSplit.Documents, manifest.ValidationSplit);
        Assert.Equal(documents.Count(d => split.IsValidation(DocumentSplit.Hash(d))), manifest.ValidationDocuments);
    }

    [Fact]
    public void Validation_blocks_are_the_fraction_rounded_at_least_one_never_all_and_spread_over_the_stream()
    {
        foreach (var fraction in new[] { 0.01, 0.05, 0.3 })
            for (long blocks = 2; blocks <= 400; blocks++)
            {
                var plan = BlockSplit.Plan(blocks * BlockSize, BlockSize, fraction)!;
                var held = Enumerable.Range(0, (int)blocks).Where(i => plan.IsValidation(i)).ToList();
                Assert.Equal(Math.Clamp((long)Math.Round(fraction * blocks, MidpointRounding.AwayFromZero), 1, blocks - 1), held.Count);
                // One in each of held.Count equal shares of the stream.
                for (var k = 0; k < held.Count; k++)
                    Assert.InRange(held[k], k * blocks / held.Count, (k + 1) * blocks / held.Count);
            }
    }
}
