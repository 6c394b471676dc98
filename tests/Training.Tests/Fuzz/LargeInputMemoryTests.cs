using Streaming.Training.Data;
using Streaming.Training.Tests.Data;
using Xunit.Abstractions;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// Inputs of gigabytes with the default 16 MiB document limit: compression bombs of 1 GiB (a few MB of .gz or .zst)
/// and an enormous sparse .txt of 2 GiB, each beside a small file of real documents, all read twice by the ingest. The
/// process' peak working set must grow by less than <see cref="GrowthBound"/>: the readers hold one document (at most the
/// limit) whatever the size of the file. Growth over the process' resident set before the ingest is what is bounded:
/// earlier tests in the same process leave their own memory behind.
/// </summary>
[Collection(FuzzCollection.Name)]
public class LargeInputMemoryTests(ITestOutputHelper output)
{
    private const long GrowthBound = 128L << 20;   // 8 times the document limit; measured +18 to +36 MiB

    [Theory]
    [InlineData("bomb.txt.gz")]
    [InlineData("bomb.jsonl.zst")]
    [InlineData("enormous.txt")]
    public void A_gigabyte_input_is_one_skipped_document_within_the_memory_bound(string name)
    {
        using var temp = new TempFolder();
        temp.File("corpus/documents.txt", "first document\n\nsecond document");
        var path = temp.Combine("corpus", name);
        if (name.StartsWith("bomb")) File.WriteAllBytes(path, Compressed.Bomb(Path.GetExtension(name), 1L << 30));
        else WriteSparse(path, 2L << 30);
        var before = PeakMemory.Reset();

        var manifest = FuzzRun.WithTimeout(() => CorpusIngestor.Ingest(temp.Combine("corpus"), temp.Combine("data"), "large", ByteTokenizer.Instance));

        var growth = PeakMemory.Bytes() - before;
        output.WriteLine($"{name}: peak working set {before >> 20} MiB before, +{growth >> 20} MiB");
        Assert.Equal(2, manifest.TrainDocuments + manifest.ValidationDocuments);
        Assert.Equal(new SkipCounts { TooLarge = 1 }, manifest.Skipped);
        Assert.True(growth < GrowthBound, $"peak working set grew by {growth >> 20} MiB reading {name}");
    }

    /// <summary>A file of <paramref name="length"/> bytes: 18 KiB of lines without a blank one (so it sniffs as text),
    /// then a hole of NULs that takes no disk: one paragraph far over the limit.</summary>
    private static void WriteSparse(string path, long length)
    {
        using var file = File.Create(path);
        file.Write(System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("a line of text\n", 1200))));
        file.SetLength(length);
    }
}
