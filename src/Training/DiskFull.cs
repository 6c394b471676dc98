namespace Streaming.Training;

/// <summary>Tells a write that failed because its volume is full from other I/O errors, and says how full it is.</summary>
public static class DiskFull
{
    // ENOSPC and EDQUOT (Linux), ERROR_HANDLE_DISK_FULL and ERROR_DISK_FULL (Windows): .NET puts them in IOException.HResult.
    static readonly HashSet<int> Codes = [28, 122, unchecked((int)0x80070027), unchecked((int)0x80070070)];

    /// <summary>Whether <paramref name="e"/>, or an exception it wraps, is a write refused for want of space.</summary>
    public static bool Is(Exception? e) => e is not null && (e is IOException io && Codes.Contains(io.HResult) || Is(e.InnerException));

    /// <summary>Bytes free to this process on the volume that holds <paramref name="path"/> (its nearest existing folder); null
    /// when that cannot be read.</summary>
    public static long? FreeBytes(string path)
    {
        var folder = Path.GetFullPath(path);
        while (!Directory.Exists(folder) && Path.GetDirectoryName(folder) is { } parent) folder = parent;
        try
        {
            // On Linux DriveInfo asks statvfs about the path itself, so this is the mount the path is on.
            return new DriveInfo(folder).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>"data volume full (N MB free, needs ~M MB)" for the volume of <paramref name="path"/>; the need is left out
    /// when unknown.</summary>
    public static string Describe(string path, long? needed = null) =>
        $"data volume full ({Megabytes(FreeBytes(path) ?? 0)} MB free{(needed is { } bytes ? $", needs ~{Megabytes(bytes)} MB" : "")})";

    static string Megabytes(long bytes) => (bytes / 1e6).ToString(bytes < 10_000_000 ? "N1" : "N0", System.Globalization.CultureInfo.InvariantCulture);
}
