namespace Streaming.Training.Loop;

/// <summary>An immutable snapshot of the loop, published after every step for status queries from any thread.</summary>
public sealed record TrainingProgress(
    long Step,
    double Loss,
    double FirstLoss,
    double LearningRate,
    string Phase,
    double TokensPerSecond,
    IReadOnlyDictionary<string, long> TokensTrained,
    IReadOnlyDictionary<string, long> NextSequence,
    string Device,
    IReadOnlyList<TaskEvaluation> Evaluations,
    CheckpointReport? LastCheckpoint,
    string? Error)
{
    /// <summary>The newest release: the folder of the last annealed branch's weights.</summary>
    public string? LastRelease { get; init; }

    public static readonly TrainingProgress Empty = new(0, double.NaN, double.NaN, 0, "idle", 0,
        new Dictionary<string, long>(), new Dictionary<string, long>(), "", [], null, null);
}
