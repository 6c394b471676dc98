using System.Security.Cryptography;
using System.Text;

namespace Streaming.Grains;

/// <summary>
/// The files of an upload: <see cref="Name"/>, the uploaded file's or folder's own name (the silo keeps it, so that the
/// extensions still say the format), and for a folder each file's path relative to it ('/'-separated; for a single file
/// the one entry's path is empty), with its length and SHA-256. Client and silo derive the upload's id from it alike.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record UploadManifest(
    [property: Id(0)] string Name,
    [property: Id(1)] IReadOnlyList<UploadFile> Files)
{
    public long TotalBytes => Files.Sum(f => f.Length);

    /// <summary>The SHA-256 (hex) of the names, lengths and hashes: the same content under the same names has the same id.</summary>
    public string Id => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
        string.Join('\n', Files.Select(f => $"{f.Path}\t{f.Length}\t{f.Sha256}").Prepend(Name)))));

    /// <summary>Whether <paramref name="id"/> has the form of an <see cref="Id"/> (so that it is safe as a folder name).</summary>
    public static bool IsId(string id) => id.Length == 64 && id.All(char.IsAsciiHexDigitLower);

    /// <summary>Why the manifest cannot be stored as it is, in one line; null when it can. A name must stay inside the
    /// upload's folder: plain names, no '..', nothing absolute, no control characters.</summary>
    public string? Problem()
    {
        if (!IsPlainName(Name)) return $"'{Name}' is not a plain file or folder name";
        if (Files.Count == 0) return $"{Name} holds no files";
        if (Files.Count == 1 && Files[0].Path.Length == 0) return Files[0].Length < 0 ? $"{Name} has a negative length" : null;
        if (Files.FirstOrDefault(f => f.Path.Split('/').Any(part => !IsPlainName(part))) is { } bad) return $"'{Name}/{bad.Path}' is not a plain relative path";
        if (Files.Any(f => f.Length < 0)) return $"{Name} has a file of negative length";
        return Files.Select(f => f.Path).Distinct(StringComparer.Ordinal).Count() == Files.Count ? null : $"{Name} names a file twice";
    }

    static bool IsPlainName(string name) =>
        name.Length is > 0 and <= 255 && name is not ("." or "..") && !name.Any(c => c is '/' or '\\' || char.IsControl(c));
}

/// <summary>One file of an <see cref="UploadManifest"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record UploadFile(
    [property: Id(0)] string Path,
    [property: Id(1)] long Length,
    [property: Id(2)] string Sha256);
