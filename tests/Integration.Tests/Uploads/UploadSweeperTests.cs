using Streaming.Grains;

namespace Streaming.Integration.Tests;

/// <summary>Uploads nobody touched for the retention time are removed, finished or not; one written to lately is kept.</summary>
public sealed class UploadSweeperTests : IDisposable
{
    readonly string data = Directory.CreateTempSubdirectory("streaming-upload-sweep-").FullName;

    public void Dispose() => Directory.Delete(data, recursive: true);

    string Upload(string id, DateTime touched)
    {
        var folder = Directory.CreateDirectory(Path.Combine(UploadFolder.Root(data), id, ".incoming")).FullName;
        var file = Path.Combine(folder, "part.txt");
        File.WriteAllText(file, "half a corpus");
        foreach (var path in new[] { file, folder, Path.GetDirectoryName(folder)! })
        {
            if (File.Exists(path)) File.SetLastWriteTimeUtc(path, touched);
            else Directory.SetLastWriteTimeUtc(path, touched);
        }
        return Path.GetDirectoryName(folder)!;
    }

    [Fact]
    public void StaleUploadsAreRemovedAndLiveOnesKept()
    {
        var now = DateTime.UtcNow;
        var stale = Upload(new string('a', 64), now - TimeSpan.FromHours(30));
        var live = Upload(new string('b', 64), now - TimeSpan.FromHours(1));

        var removed = UploadSweeper.RemoveExpired(data, TimeSpan.FromHours(24), now);

        Assert.Equal([$"removed the upload {stale}, untouched for over 24 h"], removed);
        Assert.False(Directory.Exists(stale));
        Assert.True(Directory.Exists(live));
        Assert.Empty(UploadSweeper.RemoveExpired(Path.Combine(data, "nothing-here"), TimeSpan.FromHours(24), now));
    }
}
