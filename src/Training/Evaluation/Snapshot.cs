namespace Streaming.Training.Evaluation;

/// <summary>What a snapshot is, which decides where its evaluation goes (a loss-matrix row, a release, the main curve).</summary>
public static class SnapshotKind
{
    /// <summary>The paper-protocol release at the end of a task: that task's row of the loss matrix.</summary>
    public const string TaskRelease = "task-release";

    /// <summary>The main trajectory at the end of a task that had no anneal branch, kept as that task's release: its row
    /// of the loss matrix.</summary>
    public const string TaskEnd = "task-end";

    /// <summary>A release asked for on demand (`streaming anneal`).</summary>
    public const string OnDemandRelease = "on-demand-release";

    /// <summary>The live main trajectory at the evaluation cadence.</summary>
    public const string Main = "main";

    /// <summary>Whether the snapshot is a row of the loss matrix ("after task i").</summary>
    public static bool IsTaskRow(string kind) => kind is TaskRelease or TaskEnd;

    /// <summary>Whether the snapshot is a release (kept, listed with the run's releases).</summary>
    public static bool IsRelease(string kind) => kind is TaskRelease or TaskEnd or OnDemandRelease;

    /// <summary>Whether the snapshot's files are the evaluator's to delete once evaluated (releases are kept).</summary>
    public static bool IsTemporary(string kind) => kind is Main;
}

/// <summary>A saved model state for the evaluators: where it is, what it is, after which task and step, and the
/// corpora seen so far (the columns it is evaluated on).</summary>
public sealed record Snapshot(string Path, string Kind, string Task, long Step, IReadOnlyList<string> Corpora);

/// <summary>A snapshot's validation loss (nats per token) on each corpus, or why it could not be evaluated.</summary>
public sealed record SnapshotEvaluation(Snapshot Snapshot, IReadOnlyDictionary<string, double> Loss, string? Error = null);
