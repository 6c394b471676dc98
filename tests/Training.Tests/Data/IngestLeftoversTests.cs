using Streaming.Training.Data;

namespace Streaming.Training.Tests.Data;

/// <summary>What an ingest killed midway leaves in the corpora folder is cleared at the next start, and nothing else is.</summary>
public sealed class IngestLeftoversTests : IDisposable
{
    readonly string data = Directory.CreateTempSubdirectory("streaming-leftovers-").FullName;
    string Corpora => BlockStore.CorporaDirectory(data);

    public void Dispose() => Directory.Delete(data, recursive: true);

    string Folder(string name, params string[] files)
    {
        var folder = Directory.CreateDirectory(Path.Combine(Corpora, name)).FullName;
        foreach (var file in files) File.WriteAllText(Path.Combine(folder, file), file);
        return folder;
    }

    [Fact]
    public void AStagingFolderNoIngestHoldsIsRemoved()
    {
        var left = Folder(".english.ingest-0123", ".lock", "train.bin");
        var report = CorpusIngestor.RemoveLeftovers(data);
        Assert.False(Directory.Exists(left));
        Assert.Equal($"removed the staging folder {left} of an ingest that did not finish", Assert.Single(report));
    }

    [Fact]
    public void AStagingFolderALiveIngestHoldsIsKept()
    {
        var live = Folder(".english.ingest-4567", "train.bin");
        using var held = new FileStream(Path.Combine(live, ".lock"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        Assert.Empty(CorpusIngestor.RemoveLeftovers(data));
        Assert.True(Directory.Exists(live));
    }

    [Fact]
    public void ADownloadIsKeptWhileHeldAndRemovedOnceLeft()
    {
        var (folder, held) = CorpusIngestor.CreateDownloadFolder(data, "news");
        File.WriteAllText(Path.Combine(folder, "news.jsonl.zst"), "partial");
        Assert.Empty(CorpusIngestor.RemoveLeftovers(data));
        Assert.True(Directory.Exists(folder));
        // A killed silo's lock is gone with it.
        held.Dispose();
        Assert.Equal($"removed the staging folder {folder} of an ingest that did not finish", Assert.Single(CorpusIngestor.RemoveLeftovers(data)));
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void ARetiredCopyIsRemovedWhenItsCorpusIsInPlace()
    {
        Folder("english", "manifest.json");
        var retired = Folder("english.old-89ab", "manifest.json");
        CorpusIngestor.RemoveLeftovers(data);
        Assert.False(Directory.Exists(retired));
        Assert.True(File.Exists(Path.Combine(Corpora, "english", "manifest.json")));
    }

    [Fact]
    public void ARetiredCopyWithoutItsReplacementIsPutBack()
    {
        Folder("german.old-cdef", "manifest.json");
        var report = CorpusIngestor.RemoveLeftovers(data);
        Assert.True(File.Exists(Path.Combine(Corpora, "german", "manifest.json")));
        Assert.StartsWith("put ", Assert.Single(report));
    }

    [Fact]
    public void CorporaAndOtherFoldersAreLeftAlone()
    {
        Folder("english", "manifest.json");
        Folder("notes.d", "readme");
        Assert.Empty(CorpusIngestor.RemoveLeftovers(data));
        Assert.True(Directory.Exists(Path.Combine(Corpora, "english")) && Directory.Exists(Path.Combine(Corpora, "notes.d")));
    }

    [Fact]
    public void AFinishedIngestLeavesNoLockOrStagingBehind()
    {
        var source = Path.Combine(data, "text.txt");
        File.WriteAllText(source, "One paragraph of text.\n\nAnother paragraph of text.");
        CorpusIngestor.Ingest(source, data, "text", ByteTokenizer.Instance);
        Assert.Equal(["text"], Directory.GetDirectories(Corpora).Select(Path.GetFileName));
        Assert.False(File.Exists(Path.Combine(Corpora, "text", ".lock")));
    }
}
