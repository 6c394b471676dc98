namespace Streaming.Training.Loop;

/// <summary>
/// The loop's own part of a checkpoint: which tasks it has seen, how far it has trained in each corpus,
/// its loss-matrix snapshots and releases so far, the first and the latest training loss (so that a resumed run
/// reports what it reported before). With the model, optimizer and schedule state it makes a resume exact.
/// </summary>
public sealed record LoopCheckpoint(
    List<string> Tasks,
    Dictionary<string, long> TokensTrained,
    Dictionary<string, long> NextSequence,
    List<Streaming.Training.Evaluation.Snapshot> TaskSnapshots,
    double? FirstLoss,
    List<ReleaseReport>? Releases = null,
    long AnnealsDone = 0,
    long ReplayTokens = 0,
    double? LastLoss = null);

/// <summary>A checkpoint that is safely on disk, with the cursors it holds: what the grain persists.</summary>
public sealed record CheckpointReport(string Path, long Step, IReadOnlyDictionary<string, long> NextSequence, string? Schedule = null);
