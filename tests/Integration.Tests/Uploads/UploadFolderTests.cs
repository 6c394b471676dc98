using System.Security.Cryptography;
using Streaming.Grains;

namespace Streaming.Integration.Tests;

/// <summary>
/// An upload's state is its files on the data volume: a new <see cref="UploadFolder"/> over the same folder (a restarted
/// silo, another silo of the cluster) reads back the manifest and how far each file got, and completes it.
/// </summary>
public sealed class UploadFolderTests : IDisposable
{
    readonly string data = Directory.CreateTempSubdirectory("streaming-upload-folder-").FullName;

    public void Dispose() => Directory.Delete(data, recursive: true);

    [Fact]
    public async Task AnotherInstanceOverTheSameFolderResumesAndCompletes()
    {
        byte[] first = [.. Enumerable.Range(0, 3000).Select(i => (byte)('a' + i % 26))], empty = [];
        var manifest = new UploadManifest("shelf", [File("a.txt", first), File("deep/empty.txt", empty)]);
        var before = new UploadFolder(data, manifest.Id);
        before.Begin(manifest);
        Assert.Equal(1000, await before.AppendAsync(manifest, 0, 0, first[..1000]));

        var after = new UploadFolder(data, manifest.Id);
        var loaded = after.LoadManifest()!;
        Assert.Equal(manifest.Id, loaded.Id);
        Assert.Equal([1000L, 0L], after.Received(loaded));
        Assert.Null(UploadFolder.CompletePath(data, manifest.Id));
        Assert.Equal(3000, await after.AppendAsync(loaded, 0, 1000, first[1000..]));

        Assert.Empty(after.Complete(loaded));
        var path = UploadFolder.CompletePath(data, manifest.Id);
        Assert.Equal(after.CompletePath(loaded), path);
        Assert.Equal(first, System.IO.File.ReadAllBytes(Path.Combine(path!, "a.txt")));
        Assert.Equal(0, new FileInfo(Path.Combine(path!, "deep", "empty.txt")).Length);
        Assert.Equal([3000L, 0L], after.Received(loaded));
    }

    static UploadFile File(string path, byte[] bytes) => new(path, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)));
}
