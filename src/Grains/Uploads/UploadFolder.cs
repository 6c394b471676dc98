using System.Security.Cryptography;
using System.Text.Json;
using Streaming.Training.Native;

namespace Streaming.Grains;

/// <summary>
/// One upload on the data volume (shared by the silos of a cluster), by its id:
/// <c>&lt;data&gt;/uploads/&lt;id&gt;/manifest.json</c> says what it holds; the bytes arrive under <c>.incoming/&lt;name&gt;</c>
/// (a file, or a folder of the relative paths); once every file matches its SHA-256 they are flushed to disk and
/// <c>.incoming/&lt;name&gt;</c> is renamed to <c>&lt;name&gt;</c>, so that a complete upload is one that exists under its
/// own name. What the silo holds of a file is its length on disk: nothing else to lose when a silo dies mid-upload.
/// One caller at a time per upload (its grain).
/// </summary>
public sealed class UploadFolder(string dataRoot, string id)
{
    const string ManifestFile = "manifest.json", IncomingFolder = ".incoming";
    const int ReadBuffer = 1 << 20;

    public static string Root(string dataRoot) => Path.Combine(dataRoot, "uploads");

    string Folder => Path.Combine(Root(dataRoot), id);

    /// <summary>The manifest a client declared, or null before any did.</summary>
    public UploadManifest? LoadManifest()
    {
        var file = Path.Combine(Folder, ManifestFile);
        return File.Exists(file) ? JsonSerializer.Deserialize<UploadManifest>(File.ReadAllText(file)) : null;
    }

    /// <summary>Records the manifest (written aside, then renamed: never half a manifest) and creates the incoming folders.</summary>
    public void Begin(UploadManifest manifest)
    {
        Directory.CreateDirectory(Folder);
        var file = Path.Combine(Folder, ManifestFile);
        if (!File.Exists(file))
        {
            File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(manifest));
            File.Move(file + ".tmp", file, overwrite: true);
        }
        else File.SetLastWriteTimeUtc(file, DateTime.UtcNow);   // a resumed upload is alive again (see UploadSweeper)
        if (IsComplete(manifest)) return;
        foreach (var staged in Enumerable.Range(0, manifest.Files.Count).Select(i => Incoming(manifest, i)))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(staged)!);
            if (!File.Exists(staged)) File.Create(staged).Dispose();   // an empty file gets no chunk
        }
    }

    /// <summary>The uploaded file or folder, where an ingest reads it.</summary>
    public string CompletePath(UploadManifest manifest) => Path.Combine(Folder, manifest.Name);

    public bool IsComplete(UploadManifest manifest) => Path.Exists(CompletePath(manifest));

    /// <summary>Bytes the silo holds of each file.</summary>
    public IReadOnlyList<long> Received(UploadManifest manifest) =>
        [.. Enumerable.Range(0, manifest.Files.Count).Select(i => IsComplete(manifest) ? manifest.Files[i].Length : Length(Incoming(manifest, i)))];

    /// <summary>Appends <paramref name="chunk"/> to file <paramref name="index"/> if it holds exactly <paramref name="offset"/>
    /// bytes; returns what it holds afterwards.</summary>
    public async Task<long> AppendAsync(UploadManifest manifest, int index, long offset, byte[] chunk)
    {
        await using var file = new FileStream(Incoming(manifest, index), FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, bufferSize: 0, useAsync: true);
        if (file.Length != offset) return file.Length;
        file.Seek(0, SeekOrigin.End);
        await file.WriteAsync(chunk);
        return file.Length;
    }

    /// <summary>
    /// Checks every file's length and SHA-256, flushes them to disk and moves the upload in place. Returns the files that
    /// did not match (deleted, to be sent again); empty when the upload is complete.
    /// </summary>
    public IReadOnlyList<string> Complete(UploadManifest manifest)
    {
        if (IsComplete(manifest)) return [];
        var wrong = new List<string>();
        for (var i = 0; i < manifest.Files.Count; i++)
        {
            var expected = manifest.Files[i];
            var path = Incoming(manifest, i);
            if (Length(path) == expected.Length && HashAndSync(path) == expected.Sha256) continue;
            File.Delete(path);
            wrong.Add(expected.Path.Length == 0 ? manifest.Name : $"{manifest.Name}/{expected.Path}");
        }
        if (wrong.Count > 0) return wrong;
        var incoming = Path.Combine(Folder, IncomingFolder, manifest.Name);
        foreach (var folder in Directory.Exists(incoming) ? Directory.GetDirectories(incoming, "*", SearchOption.AllDirectories).Append(incoming) : [])
            LibC.SyncDirectory(folder);
        if (Directory.Exists(incoming)) Directory.Move(incoming, CompletePath(manifest));
        else File.Move(incoming, CompletePath(manifest));
        LibC.SyncDirectory(Folder);   // the rename survives a power loss
        Directory.Delete(Path.Combine(Folder, IncomingFolder));
        return [];
    }

    /// <summary>
    /// The path of upload <paramref name="id"/> when it is complete, else null (also for an id that is not one). Marks it
    /// used, so that <see cref="UploadSweeper"/> keeps it while the ingest that asked reads it.
    /// </summary>
    public static string? CompletePath(string dataRoot, string id)
    {
        if (!UploadManifest.IsId(id)) return null;
        var upload = new UploadFolder(dataRoot, id);
        if (upload.LoadManifest() is not { } manifest || !upload.IsComplete(manifest)) return null;
        File.SetLastWriteTimeUtc(Path.Combine(upload.Folder, ManifestFile), DateTime.UtcNow);
        return upload.CompletePath(manifest);
    }

    /// <summary>Where file <paramref name="index"/> arrives: the single file itself, or the folder's file at its relative path.</summary>
    string Incoming(UploadManifest manifest, int index)
    {
        var relative = manifest.Files[index].Path;
        var root = Path.Combine(Folder, IncomingFolder, manifest.Name);
        return relative.Length == 0 ? root : Path.Combine(root, relative);
    }

    static long Length(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    /// <summary>The file's SHA-256 (hex), read once; it is also flushed to disk on the way.</summary>
    static string HashAndSync(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, ReadBuffer);
        file.Flush(flushToDisk: true);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }
}
