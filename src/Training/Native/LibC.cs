using System.Runtime.InteropServices;

namespace Streaming.Training.Native;

/// <summary>The few C library calls .NET has no API for: a directory's fsync and realpath. Linux (and other Unix) only.</summary>
public static class LibC
{
    /// <summary>fsync of a directory, so that the names in it (a rename into it, a file created in it) are durable.
    /// Elsewhere than Linux a no-op.</summary>
    public static void SyncDirectory(string path)
    {
        if (!OperatingSystem.IsLinux()) return;
        const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY
        var fd = open(path, ReadOnlyDirectory);
        if (fd < 0) return;
        try { fsync(fd); }
        finally { close(fd); }
    }

    /// <summary>The canonical absolute path (links and <c>..</c> resolved) of an existing path; null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        var resolved = realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return null;
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            free(resolved);
        }
    }

    [DllImport("libc", SetLastError = true)]
    static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    static extern int fsync(int fd);

    [DllImport("libc")]
    static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    static extern IntPtr realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc")]
    static extern void free(IntPtr pointer);
}
