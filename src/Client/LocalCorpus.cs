using System.Buffers;
using System.Security.Cryptography;
using Streaming.Grains;

namespace Streaming.Client;

/// <summary>
/// A corpus file or folder on the client's machine, as an upload sees it: every file (a folder's at every depth, as the
/// silo's reader takes them, unsupported ones too: the silo counts those as skipped) with its length and SHA-256.
/// </summary>
public sealed class LocalCorpus
{
    const int BufferBytes = 1 << 20;

    LocalCorpus(string path, IReadOnlyList<string> files, UploadManifest manifest)
    {
        Path = path;
        Files = files;
        Manifest = manifest;
    }

    /// <summary>The file or folder, absolute.</summary>
    public string Path { get; }

    /// <summary>The absolute path of each file of <see cref="Manifest"/>, in its order.</summary>
    public IReadOnlyList<string> Files { get; }

    public UploadManifest Manifest { get; }

    /// <summary>Lists and hashes the files at <paramref name="path"/> (one buffer in memory); <paramref name="hashed"/> gets the
    /// bytes hashed so far and the total.</summary>
    public static async Task<LocalCorpus> DescribeAsync(string path, Action<long, long> hashed, CancellationToken cancellation)
    {
        path = System.IO.Path.GetFullPath(System.IO.Path.TrimEndingDirectorySeparator(path));
        var isFolder = Directory.Exists(path);
        string[] files = isFolder
            ? [.. Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)]
            : [path];
        var total = files.Sum(f => new FileInfo(f).Length);
        var entries = new List<UploadFile>(files.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        long done = 0;
        try
        {
            foreach (var file in files)
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: true);
                long length = 0;
                int read;
                while ((read = await stream.ReadAsync(buffer.AsMemory(0, BufferBytes), cancellation)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    length += read;
                    hashed(done += read, total);
                }
                var relative = isFolder ? System.IO.Path.GetRelativePath(path, file).Replace(System.IO.Path.DirectorySeparatorChar, '/') : "";
                entries.Add(new UploadFile(relative, length, Convert.ToHexStringLower(hash.GetHashAndReset())));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return new LocalCorpus(path, files, new UploadManifest(System.IO.Path.GetFileName(path), entries));
    }
}
