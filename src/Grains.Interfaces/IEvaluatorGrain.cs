using Orleans.Concurrency;

namespace Streaming.Grains;

/// <summary>
/// The evaluations of one run (keyed by the run's name): every release and, at a cadence, the live main
/// trajectory, on the validation split of every corpus seen so far. Results persist.
/// </summary>
public interface IEvaluatorGrain : IGrainWithStringKey
{
    /// <summary>Queues snapshots for evaluation; one already queued or evaluated (same path) is ignored.</summary>
    Task EvaluateAsync(IReadOnlyList<SnapshotRef> snapshots);

    [AlwaysInterleave]
    Task<EvaluationReport> GetReportAsync();
}

/// <summary>A saved model state to evaluate: where, what kind (task-release, task-end, on-demand-release, main, average),
/// after which task, at which step (steps executed, branch steps included), the corpora to evaluate it on, and for a main
/// snapshot its main step (its position on the main trajectory, which the anneal planner fits to; null for other kinds and
/// for main snapshots saved before it was recorded).</summary>
[GenerateSerializer, Immutable]
public sealed record SnapshotRef(
    [property: Id(0)] string Path,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Task,
    [property: Id(3)] long Step,
    [property: Id(4)] IReadOnlyList<string> Corpora,
    [property: Id(5)] long? MainStep = null);

/// <summary>A snapshot's validation loss per corpus (nats per token), or why it could not be evaluated.</summary>
[GenerateSerializer, Immutable]
public sealed record EvaluatedSnapshot(
    [property: Id(0)] SnapshotRef Snapshot,
    [property: Id(1)] IReadOnlyDictionary<string, double> Loss,
    [property: Id(2)] string? Error);

/// <summary>
/// A run's evaluations: the loss matrix (row: after task i, column: corpus j), forgetting per corpus
/// (docs/evaluation.md: loss now minus loss right after its task, on the matrix rows), every release, the main
/// trajectory's curve, and how many snapshots wait.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record EvaluationReport(
    [property: Id(0)] IReadOnlyList<TaskLosses> Matrix,
    [property: Id(1)] IReadOnlyDictionary<string, double> Forgetting,
    [property: Id(2)] IReadOnlyList<EvaluatedSnapshot> Releases,
    [property: Id(3)] IReadOnlyList<EvaluatedSnapshot> Main,
    [property: Id(4)] int Pending,
    // Snapshots that could not be evaluated (each has its error; the silo log has the whole exception).
    [property: Id(5)] int Failed = 0,
    // Why the evaluator stopped evaluating altogether (its thread failed); null while it works.
    [property: Id(6)] string? Error = null,
    // Main-cadence snapshots passed over, unevaluated, because newer ones were waiting (the wait is bounded).
    [property: Id(7)] long Skipped = 0)
{
    public static readonly EvaluationReport Empty = new([], new Dictionary<string, double>(), [], [], 0);
}
