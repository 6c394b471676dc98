using System.Collections.Concurrent;
using System.Diagnostics;
using Streaming.Client;
using Streaming.Client.Commands;
using Streaming.Grains;

namespace Streaming.Load;

/// <summary>One status call: when it started (seconds into the load), for which run, how long it took, and why it failed (null: it did not).</summary>
public sealed record StatusCall(double At, string Run, double Milliseconds, string? Error);

/// <summary>
/// Asks the silo for a run's status, as `streaming status --run R` does (<see cref="StatusQuery"/>), at a fixed rate,
/// round-robin over the runs, from one client. Calls start on schedule whether or not earlier ones have answered, so a
/// silo that stalls shows as slow calls, not as fewer calls. Keeps every call's latency and each run's newest status.
/// </summary>
public sealed class StatusPoller(IClusterClient client, IReadOnlyList<string> runs, double hz, Stopwatch clock)
{
    readonly ConcurrentQueue<StatusCall> calls = new();
    readonly ConcurrentDictionary<string, (double At, RunStatus Status)> newest = new();

    public IReadOnlyList<StatusCall> Calls => [.. calls];

    /// <summary>Each run's status from the newest call that answered (by start time); absent before one has.</summary>
    public IReadOnlyDictionary<string, RunStatus> Newest => newest.ToDictionary(p => p.Key, p => p.Value.Status);

    /// <summary>Polls until <paramref name="stop"/> is cancelled, then waits for the calls still out.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var period = TimeSpan.FromSeconds(1 / hz);
        var first = clock.Elapsed;
        var outstanding = new List<Task>();
        for (long i = 0; !stop.IsCancellationRequested; i++)
        {
            var wait = first + period * i - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                try { await Task.Delay(wait, stop); }
                catch (OperationCanceledException) { break; }
            }
            var run = runs[(int)(i % runs.Count)];
            outstanding.Add(Task.Run(() => CallAsync(run)));
            if (outstanding.Count >= 1000) outstanding.RemoveAll(t => t.IsCompleted);
        }
        await Task.WhenAll(outstanding);
    }

    async Task CallAsync(string run)
    {
        var at = clock.Elapsed.TotalSeconds;
        var timer = Stopwatch.StartNew();
        try
        {
            var status = (await StatusQuery.AskAsync(client, run)).Runs.Single();
            calls.Enqueue(new StatusCall(at, run, timer.Elapsed.TotalMilliseconds, null));
            newest.AddOrUpdate(run, (at, status), (_, known) => known.At > at ? known : (at, status));
        }
        catch (Exception e)
        {
            calls.Enqueue(new StatusCall(at, run, timer.Elapsed.TotalMilliseconds, CommonOptions.Describe(e)));
        }
    }
}
