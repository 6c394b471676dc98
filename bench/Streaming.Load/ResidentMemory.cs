using System.Diagnostics;

namespace Streaming.Load;

/// <summary>One reading of a process' resident memory (VmRSS), seconds into the load.</summary>
public sealed record MemorySample(double At, long Bytes);

/// <summary>Samples a process' resident memory (VmRSS in /proc/PID/status) every <see cref="Period"/> until stopped.</summary>
public sealed class ResidentMemory(int pid, Stopwatch clock)
{
    static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);
    readonly List<MemorySample> samples = [];

    public IReadOnlyList<MemorySample> Samples { get { lock (samples) return [.. samples]; } }

    /// <summary>Reads the resident memory now, and keeps it as a sample.</summary>
    public MemorySample Sample()
    {
        var sample = new MemorySample(clock.Elapsed.TotalSeconds, Resident());
        lock (samples) samples.Add(sample);
        return sample;
    }

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Sample();
            try { await Task.Delay(Period, stop); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>VmRSS in bytes (the kernel writes kB).</summary>
    long Resident()
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
