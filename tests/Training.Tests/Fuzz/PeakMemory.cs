using System.Text.RegularExpressions;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// The process' peak resident set (Linux VmHWM), which <see cref="Reset"/> sets back to the current one (writing 5 to
/// /proc/self/clear_refs), so that a fuzz run or a single large input can be measured on its own.
/// </summary>
internal static partial class PeakMemory
{
    public static void Reset()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        File.WriteAllText("/proc/self/clear_refs", "5");
    }

    public static long Bytes()
    {
        var status = File.ReadAllText("/proc/self/status");
        return long.Parse(HighWaterMark().Match(status).Groups[1].Value) * 1024;
    }

    [GeneratedRegex(@"VmHWM:\s+(\d+) kB")]
    private static partial Regex HighWaterMark();
}
