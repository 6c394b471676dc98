using Streaming.Client.Watch;

namespace Streaming.Integration.Tests;

/// <summary>When a watched file counts as complete, and in which order complete files go.</summary>
public sealed class SettlingFilesTests : IDisposable
{
    readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("streaming-settling-");
    readonly DateTimeOffset start = DateTimeOffset.UtcNow;

    public void Dispose() => folder.Delete(recursive: true);

    FileInfo Write(string name, string text, DateTime lastWrite)
    {
        var path = Path.Combine(folder.FullName, name);
        File.WriteAllText(path, text);
        File.SetLastWriteTimeUtc(path, lastWrite);
        return new FileInfo(path);
    }

    IEnumerable<FileInfo> Listing() => folder.EnumerateFiles();

    [Fact]
    public void AFileIsReadyOnceUnchangedForTheSettleTimeAndReadyFilesGoByWriteTimeThenName()
    {
        var settling = new SettlingFiles(TimeSpan.FromSeconds(5));
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Write("b.txt", "b", t0);
        Write("a.txt", "a", t0);
        Write("early.txt", "e", t0.AddMinutes(-1));
        Assert.Empty(settling.Ready(Listing(), start));                      // first seen: not yet settled
        Assert.Empty(settling.Ready(Listing(), start.AddSeconds(4)));
        Assert.Equal(["early.txt", "a.txt", "b.txt"], settling.Ready(Listing(), start.AddSeconds(5)).Select(f => f.Name));
    }

    [Fact]
    public void AFileStillGrowingIsNotReadyAndHiddenOrPartialFilesNeverAre()
    {
        var settling = new SettlingFiles(TimeSpan.FromSeconds(5));
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Write("growing.txt", "1", t0);
        Write(".hidden.txt", "h", t0);
        Write("download.txt.part", "p", t0);
        Write("editor.txt~", "e", t0);
        Assert.Empty(settling.Ready(Listing(), start));
        Write("growing.txt", "12", t0.AddSeconds(4));                          // it changed: the clock starts again
        Assert.Empty(settling.Ready(Listing(), start.AddSeconds(6)));
        Assert.Empty(settling.Ready(Listing(), start.AddSeconds(10)));
        Assert.Equal(["growing.txt"], settling.Ready(Listing(), start.AddSeconds(11)).Select(f => f.Name));
    }
}
