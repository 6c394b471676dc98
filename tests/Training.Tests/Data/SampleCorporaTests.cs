using Streaming.Training.Data;

namespace Streaming.Training.Tests.Data;

/// <summary>The corpora shipped in samples/corpora ingest cleanly: no skipped documents, exact counts.</summary>
public class SampleCorporaTests
{
    [Theory]
    [InlineData("english", 260)]
    [InlineData("german", 126)]
    [InlineData("code", 102)]
    [InlineData("french", 125)]
    public void Shipped_sample_ingests_without_error(string name, int documents)
    {
        var folder = Path.Combine(RepositoryRoot.Find(), "samples", "corpora", name);
        using var temp = new TempFolder();
        var manifest = CorpusIngestor.Ingest(folder, temp.Path, name, ByteTokenizer.Instance);

        Assert.Equal(documents, manifest.TrainDocuments + manifest.ValidationDocuments);
        Assert.Equal(0, manifest.Skipped.Documents);
        Assert.True(manifest.Skipped.UnsupportedFiles >= 2); // LICENSE/COPYING and SOURCE.md sit beside the data
        Assert.InRange(manifest.ValidationDocuments, 1, documents / 5);
        // Byte-level: tokens are exactly the UTF-8 bytes of the accepted documents.
        var bytes = new CorpusReader(folder).ReadDocuments(new SkipCounts()).Sum(d => (long)System.Text.Encoding.UTF8.GetByteCount(d.Text));
        Assert.Equal(bytes, manifest.TrainTokens + manifest.ValidationTokens);
        using var store = BlockStore.Open(temp.Path, name);
        Assert.Equal(manifest.TrainTokens, Enumerable.Range(0, (int)store.TrainBlockCount).Sum(i => (long)store.BlockLength(i)));
    }
}
