using System.Text.RegularExpressions;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// The process' peak resident set (Linux VmHWM), which <see cref="Reset"/> sets back to the current one (writing 5 to
/// /proc/self/clear_refs), so that a fuzz run or a single large input can be measured on its own. Reset returns the
/// resident set at that moment: what earlier tests in the process hold, which a growth bound leaves out.
/// </summary>
internal static partial class PeakMemory
{
    public static long Reset()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        File.WriteAllText("/proc/self/clear_refs", "5");
        return Read(Resident());
    }

    public static long Bytes() => Read(HighWaterMark());

    static long Read(Regex field) => long.Parse(field.Match(File.ReadAllText("/proc/self/status")).Groups[1].Value) * 1024;

    [GeneratedRegex(@"VmHWM:\s+(\d+) kB")]
    private static partial Regex HighWaterMark();

    [GeneratedRegex(@"VmRSS:\s+(\d+) kB")]
    private static partial Regex Resident();
}
