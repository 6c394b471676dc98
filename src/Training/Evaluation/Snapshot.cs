using Streaming.Schedules;
using System.Text.Json.Serialization;

namespace Streaming.Training.Evaluation;

/// <summary>What a snapshot is, which decides where its evaluation goes (a loss-matrix row, a release, the main curve).
/// Kebab-case strings in JSON and on the wire ("task-release").</summary>
[JsonConverter(typeof(KebabCaseEnumConverter<SnapshotKind>))]
public enum SnapshotKind
{
    /// <summary>The paper-protocol release at the end of a task: that task's row of the loss matrix.</summary>
    TaskRelease,

    /// <summary>The model at the end of a task that had no anneal branch (the main trajectory's weights, or under `--release
    /// average` their average), kept as that task's release: its row of the loss matrix.</summary>
    TaskEnd,

    /// <summary>A release asked for on demand (`streaming anneal`).</summary>
    OnDemandRelease,

    /// <summary>The live main trajectory at the evaluation cadence.</summary>
    Main,

    /// <summary>The weight average released beside a task's row (`--release both`) or on demand (`streaming anneal --mode
    /// average`). At a task end under `--release average` the average is the task's row instead: a <see cref="TaskEnd"/>.</summary>
    Average,
}

/// <summary>What each <see cref="SnapshotKind"/> means for its evaluation.</summary>
public static class SnapshotKinds
{
    /// <summary>Whether the snapshot is a row of the loss matrix ("after task i").</summary>
    public static bool IsTaskRow(this SnapshotKind kind) => kind is SnapshotKind.TaskRelease or SnapshotKind.TaskEnd;

    /// <summary>Whether the snapshot is a release (kept, listed with the run's releases).</summary>
    public static bool IsRelease(this SnapshotKind kind) =>
        kind is SnapshotKind.TaskRelease or SnapshotKind.TaskEnd or SnapshotKind.OnDemandRelease or SnapshotKind.Average;

    /// <summary>Whether the snapshot's files are the evaluator's to delete once evaluated (releases are kept).</summary>
    public static bool IsTemporary(this SnapshotKind kind) => kind is SnapshotKind.Main;
}

/// <summary>A saved model state for the evaluators: where it is, what it is, after which task and step (steps executed,
/// branch steps included), the corpora seen so far (the columns it is evaluated on), and for a <see cref="SnapshotKind.Main"/>
/// snapshot its position on the main trajectory (main steps taken: what the annealing law's learning-rate areas are
/// computed from; null for other kinds and for snapshots saved before it was recorded).</summary>
public sealed record Snapshot(string Path, SnapshotKind Kind, string Task, long Step, IReadOnlyList<string> Corpora, long? MainStep = null);

/// <summary>A snapshot's validation loss (nats per token) on each corpus, or why it could not be evaluated.</summary>
public sealed record SnapshotEvaluation(Snapshot Snapshot, IReadOnlyDictionary<string, double> Loss, string? Error = null);
