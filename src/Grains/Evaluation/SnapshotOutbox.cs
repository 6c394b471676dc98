using System.Collections.Concurrent;
using Streaming.Training.Evaluation;

namespace Streaming.Grains;

/// <summary>
/// Snapshots on their way from the training thread to the run's evaluator. The thread adds them at any time; the
/// trainer's pump sends what has gathered, and a snapshot leaves only once the evaluator has taken it: a call that
/// fails (the evaluator moving, its storage down) keeps them all for the next send. Sending twice is harmless, the
/// evaluator ignores paths it already has.
/// </summary>
public sealed class SnapshotOutbox
{
    readonly ConcurrentQueue<Snapshot> added = new();
    List<SnapshotRef> unsent = [];

    /// <summary>From the training thread; returns at once.</summary>
    public void Add(Snapshot snapshot) => added.Enqueue(snapshot);

    /// <summary>Snapshots not yet taken by the evaluator.</summary>
    public int Count => unsent.Count + added.Count;

    /// <summary>Sends every snapshot not yet taken; on the grain's turn. An exception from <paramref name="send"/> leaves
    /// them here and is rethrown for the caller to log.</summary>
    public async Task SendAsync(Func<IReadOnlyList<SnapshotRef>, Task> send)
    {
        while (added.TryDequeue(out var snapshot)) unsent.Add(EvaluatorGrain.FromSnapshot(snapshot));
        if (unsent.Count == 0) return;
        await send(unsent);
        unsent = [];
    }
}
