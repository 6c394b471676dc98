using System.Globalization;

namespace Streaming.Load;

/// <summary>What the load did and found: every status call, every ingest, the silo's memory over time (before training, when
/// every run had trained everything, when every run had let go of its model), each run's final status, and the problems.</summary>
public sealed record LoadReport(
    LoadSettings Settings,
    IReadOnlyList<StatusCall> Calls,
    IReadOnlyList<IngestOutcome> Ingests,
    IReadOnlyList<MemorySample> Memory,
    MemorySample Before,
    MemorySample? Trained,
    MemorySample? Released,
    double Seconds,
    IReadOnlyList<string> Checks,
    IReadOnlyList<(string Run, Streaming.Grains.RunStatus? Status, string? Error)> Final)
{
    public int FailedCalls => Calls.Count(c => c.Error is not null);

    /// <summary>The status latency below which <paramref name="fraction"/> of the calls answered (nearest rank), in ms.</summary>
    public double Latency(double fraction)
    {
        var sorted = Calls.Select(c => c.Milliseconds).Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>From the first status call's start to the last's.</summary>
    double PollSeconds => Calls.Count < 2 ? 1 : Calls.Max(c => c.At) - Calls.Min(c => c.At);

    public MemorySample Peak => Memory.Append(Before).MaxBy(s => s.Bytes)!;

    /// <summary>Tokens every run read from its corpora, together.</summary>
    public long TokensRead => Final.Sum(f => f.Status?.Corpora.Sum(c => c.TokensRead) ?? 0);

    public int ModelsInMemory => Final.Count(f => f.Status?.ModelInMemory == true);

    /// <summary>The checks on counts and models, plus failed calls, a slow 99th percentile and memory that did not come back.</summary>
    public IReadOnlyList<string> Problems =>
    [
        .. Checks,
        .. FailedCalls > 0 ? [$"{FailedCalls} status calls failed, the first: {Calls.First(c => c.Error is not null).Error}"] : Array.Empty<string>(),
        .. Latency(0.99) > Settings.P99Limit.TotalMilliseconds ? [$"status p99 {Latency(0.99):F0} ms is over {Settings.P99Limit.TotalMilliseconds:F0} ms"] : Array.Empty<string>(),
        .. Released is { } r && r.Bytes - Before.Bytes > Settings.GrowthLimitBytes
            ? [$"the silo holds {Mib(r.Bytes - Before.Bytes)} MiB more after every run let go of its model than before training (limit {Settings.GrowthLimitBytes >> 20} MiB)"]
            : Array.Empty<string>(),
    ];

    public void Print(TextWriter o)
    {
        var s = Settings;
        var ok = Ingests.Count(i => i.Error is null);
        o.WriteLine(Invariant($"load{(s.Round > 1 ? $" round {s.Round}" : "")}: {s.Runs} runs, {s.Ingests} ingests ({s.CorpusBytes / 1024} KiB each), status at {s.StatusHz:G} Hz, {Seconds:F0} s in all"));
        o.WriteLine(Invariant($"status calls: {Calls.Count:N0} over {PollSeconds:F0} s ({Calls.Count / PollSeconds:F1} a second), failed {FailedCalls}"));
        o.WriteLine(Invariant($"status latency ms: p50 {Latency(0.5):F1}, p95 {Latency(0.95):F1}, p99 {Latency(0.99):F1}, max {Latency(1):F1}"));
        o.WriteLine(Invariant($"ingests: {ok} queued, {Ingests.Count - ok} failed; {TokensRead:N0} tokens read by {Final.Count(f => f.Status is not null)} runs"));
        o.WriteLine(Invariant($"silo memory (RSS, MiB): before training {Mib(Before.Bytes)}, peak {Mib(Peak.Bytes)} at {Peak.At:F0} s, ") +
            (Trained is { } t ? Invariant($"every token trained {Mib(t.Bytes)} at {t.At:F0} s, ") : "not every token trained, ") +
            (Released is { } r ? Invariant($"every model let go {Mib(r.Bytes)} at {r.At:F0} s") : "not every model let go") +
            $"; runs with a model in memory at the end: {ModelsInMemory}");
        o.WriteLine("silo RSS MiB every 10 s: " + string.Join(' ', Memory.GroupBy(m => (int)(m.At / 10)).Select(g => Mib(g.First().Bytes))));
        foreach (var problem in Problems) o.WriteLine($"problem: {problem}");
        o.WriteLine(Problems.Count == 0 ? "load: passed" : $"load: FAILED ({Problems.Count} problems)");
    }

    /// <summary>For rounds on one silo: its memory once every run of each round had let go of its model, and what each round
    /// left beyond the one before (memory a silo takes once shows in the first round only; a leak in every one).</summary>
    public static string MemoryAcrossRounds(IReadOnlyList<LoadReport> rounds)
    {
        var lines = new List<string>();
        long? previous = null;
        foreach (var (round, i) in rounds.Select((r, i) => (r, i + 1)))
        {
            if (round.Released is not { } released)
            {
                lines.Add($"round {i} did not let go of every model");
                previous = null;
                continue;
            }
            var grown = previous is { } p ? $"{Mib(released.Bytes - p):+0;-0} MiB on the round before" : $"{Mib(released.Bytes - round.Before.Bytes):+0;-0} MiB on before training";
            lines.Add(Invariant($"round {i} {Mib(released.Bytes)} ({grown})"));
            previous = released.Bytes;
        }
        return "silo memory once each round let go of its models (RSS, MiB): " + string.Join("; ", lines);
    }

    /// <summary>status-calls.csv (start s, run, ms, error) and memory.csv (s, RSS bytes) in <paramref name="folder"/>.</summary>
    public void WriteCsv(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, "status-calls.csv"),
            ["at_s,run,ms,error", .. Calls.OrderBy(c => c.At).Select(c => Invariant($"{c.At:F3},{c.Run},{c.Milliseconds:F2},{c.Error?.Replace(',', ';')}"))]);
        File.WriteAllLines(Path.Combine(folder, "memory.csv"), ["at_s,rss_bytes", .. Memory.Select(m => Invariant($"{m.At:F2},{m.Bytes}"))]);
    }

    static long Mib(long bytes) => bytes >> 20;

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
