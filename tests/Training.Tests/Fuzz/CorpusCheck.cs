using Streaming.Training.Data;
using Streaming.Training.Tests.Data;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// Ingests one generated corpus with the byte tokenizer and judges the result: either a stored corpus whose counts
/// hold together (and equal the expected ones when the generator knows them), or a <see cref="CorpusFormatException"/>
/// whose message is one line naming the corpus. Anything else propagates and fails the run.
/// </summary>
internal static class CorpusCheck
{
    private const string Name = "fuzz";

    /// <summary>Memory-backed when the machine has /dev/shm: every ingest flushes its files to disk, which would
    /// otherwise cost most of a case's time.</summary>
    private static readonly string? ScratchRoot = Directory.Exists("/dev/shm") ? "/dev/shm" : null;

    public static FuzzOutcome Run(CorpusCase c)
    {
        using var temp = new TempFolder(ScratchRoot);
        var corpus = temp.Combine("corpus");
        Directory.CreateDirectory(corpus);
        foreach (var entry in c.Entries) entry.Create(corpus);
        var source = c.Target is null ? corpus : Path.Combine(corpus, c.Target);
        var data = temp.Combine("data");
        var options = new IngestOptions { BlockSize = c.BlockSize, Reader = new CorpusReaderOptions { MaxDocumentBytes = c.MaxDocumentBytes } };
        CorpusManifest manifest;
        try
        {
            manifest = CorpusIngestor.Ingest(source, data, Name, ByteTokenizer.Instance, options);
        }
        catch (CorpusFormatException e)
        {
            FuzzRun.AssertOneLine(e.Message);
            Assert.True(e.Message.Contains(corpus), $"the error does not name the corpus {corpus}: {e.Message}");
            Assert.False(c.Expected is { Documents: > 0 }, $"refused a corpus with usable documents: {e.Message}");
            Assert.False(Directory.Exists(BlockStore.CorpusDirectory(data, Name)), "a refused ingest left a corpus behind");
            return FuzzOutcome.Refused;
        }
        Assert.False(c.MustRefuse, "ingested a corpus that must be refused");
        CheckStored(manifest, data);
        if (c.Expected is { } expected)
        {
            Assert.Equal(expected.Skipped, manifest.Skipped);
            Assert.Equal(expected.Documents, manifest.TrainDocuments + manifest.ValidationDocuments);
            Assert.Equal(expected.Tokens, manifest.TrainTokens + manifest.ValidationTokens);
        }
        return FuzzOutcome.Succeeded;
    }

    /// <summary>Counts that must hold for any stored corpus, and the store reads back what the manifest says.</summary>
    private static void CheckStored(CorpusManifest manifest, string data)
    {
        Assert.True(manifest.TrainDocuments + manifest.ValidationDocuments >= 1, "a stored corpus without documents");
        Assert.True(manifest.TrainTokens >= 0 && manifest.ValidationTokens >= 0, "negative token counts");
        Assert.True(manifest.TrainTokens + manifest.ValidationTokens >= manifest.TrainDocuments + manifest.ValidationDocuments,
            "fewer byte tokens than documents (every document kept has a non-blank character)");
        Assert.Equal((manifest.TrainTokens + manifest.BlockSize - 1) / manifest.BlockSize, manifest.TrainBlocks);
        Assert.Equal((manifest.ValidationTokens + manifest.BlockSize - 1) / manifest.BlockSize, manifest.ValidationBlocks);
        Assert.Equal(manifest, CorpusManifest.Load(BlockStore.CorpusDirectory(data, Name)));
        using var store = BlockStore.Open(data, Name);
        Assert.Equal(manifest.TrainTokens, Enumerable.Range(0, (int)store.TrainBlockCount).Sum(b => (long)store.BlockLength(b)));
        Assert.Equal(manifest.ValidationTokens, Enumerable.Range(0, (int)store.ValidationBlockCount).Sum(b => (long)store.ValidationBlockLength(b)));
        if (store.TrainBlockCount > 0) Assert.All(store.ReadBlock(store.TrainBlockCount - 1), t => Assert.InRange(t, 0, 255));
    }
}
