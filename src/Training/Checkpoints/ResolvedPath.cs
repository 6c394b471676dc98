using Streaming.Training.Native;

namespace Streaming.Training.Checkpoints;

/// <summary>
/// Paths as the file system sees them: absolute, with <c>..</c> and every symbolic link resolved, so that a path a
/// client names can be checked against the folder it must stay in (a link inside that folder may point anywhere).
/// </summary>
public static class ResolvedPath
{
    /// <summary>The path with its longest existing part resolved by the C library's realpath (links, <c>..</c>) and the
    /// rest, which does not exist yet, appended as written after <see cref="Path.GetFullPath(string)"/>.</summary>
    public static string Of(string path)
    {
        var full = Path.GetFullPath(path);
        var rest = new Stack<string>();
        for (var existing = full; ; existing = Path.GetDirectoryName(existing)!)
        {
            if (LibC.RealPath(existing) is { } real) return Path.Combine([real, .. rest]);
            if (Path.GetDirectoryName(existing) is null) return full;
            rest.Push(Path.GetFileName(existing));
        }
    }

    /// <summary>Whether <paramref name="path"/>, resolved, is inside <paramref name="folder"/> (resolved), or with
    /// <paramref name="orItself"/> the folder itself.</summary>
    public static bool IsWithin(string path, string folder, bool orItself = true)
    {
        var root = Of(folder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var resolved = Of(path).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return resolved.StartsWith(root, StringComparison.Ordinal) && (orItself || resolved.Length > root.Length);
    }
}
