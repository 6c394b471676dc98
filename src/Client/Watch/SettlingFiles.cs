namespace Streaming.Client.Watch;

/// <summary>
/// Tells when a file of a watched folder is complete: its size and last write time have stayed the same for
/// <paramref name="settle"/> (a file that arrived by rename is complete from the start, and shows it after one settle
/// time; one still being copied keeps changing). Files become ready in the order their last change is seen settled;
/// those ready at the same look go by last write time, then name. Hidden files (a leading '.', as rsync and many
/// copiers name what they have not finished) and the usual partial-download suffixes are never ready.
/// </summary>
public sealed class SettlingFiles(TimeSpan settle)
{
    static readonly string[] PartialSuffixes = [".tmp", ".part", ".partial", ".crdownload", ".download", "~"];

    readonly Dictionary<string, (long Size, DateTime LastWrite, DateTimeOffset Since)> seen = [];

    /// <summary>The files of <paramref name="listing"/> that are complete at <paramref name="now"/>, in the order to send them.</summary>
    public IReadOnlyList<FileInfo> Ready(IEnumerable<FileInfo> listing, DateTimeOffset now)
    {
        var ready = new List<FileInfo>();
        var present = new HashSet<string>();
        foreach (var file in listing)
        {
            if (!IsCandidate(file.Name)) continue;
            present.Add(file.Name);
            if (!seen.TryGetValue(file.Name, out var last) || last.Size != file.Length || last.LastWrite != file.LastWriteTimeUtc)
            {
                seen[file.Name] = (file.Length, file.LastWriteTimeUtc, now);
                continue;
            }
            if (now - last.Since >= settle) ready.Add(file);
        }
        foreach (var gone in seen.Keys.Where(name => !present.Contains(name)).ToList()) seen.Remove(gone);
        return [.. ready.OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal)];
    }

    /// <summary>Whether a file of this name may be a corpus: not hidden, not a partial download.</summary>
    public static bool IsCandidate(string name) =>
        !name.StartsWith('.') && !PartialSuffixes.Any(suffix => name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase));
}
