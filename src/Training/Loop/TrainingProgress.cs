namespace Streaming.Training.Loop;

/// <summary>An immutable snapshot of the loop, published after every step for status queries from any thread.</summary>
public sealed record TrainingProgress
{
    /// <summary>Optimizer steps of the main trajectory (branch steps are undone when the branch returns to its fork).</summary>
    public long Step { get; init; }

    /// <summary>Optimizer steps executed in all, main and branch alike (the schedule's step counter; never goes back).</summary>
    public long StepsExecuted { get; init; }
    public double Loss { get; init; } = double.NaN;

    /// <summary>The last step's loss was NaN or infinite (<see cref="Loss"/> is NaN before the first step too; this tells them apart).</summary>
    public bool NonFiniteLoss { get; init; }
    public double FirstLoss { get; init; } = double.NaN;
    public double LearningRate { get; init; }
    public string Phase { get; init; } = "idle";
    public double TokensPerSecond { get; init; }

    /// <summary>The run's corpora in the order their tasks started; the last is the task being trained.</summary>
    public IReadOnlyList<string> Tasks { get; init; } = [];

    /// <summary>Tokens of each corpus trained on the main trajectory (or consumed by a paper-protocol branch).</summary>
    public IReadOnlyDictionary<string, long> TokensTrained { get; init; } = new Dictionary<string, long>();
    public IReadOnlyDictionary<string, long> NextSequence { get; init; } = new Dictionary<string, long>();

    /// <summary>Tokens of earlier corpora replayed into batches (on top of the new tokens).</summary>
    public long ReplayTokens { get; init; }
    public string Device { get; init; } = "";

    /// <summary>Snapshots that are loss-matrix rows or releases, in order (the evaluators' input that must not be lost).</summary>
    public IReadOnlyList<Evaluation.Snapshot> TaskSnapshots { get; init; } = [];
    public IReadOnlyList<ReleaseReport> Releases { get; init; } = [];
    public CheckpointReport? LastCheckpoint { get; init; }

    /// <summary>The newest release: the folder of the last annealed branch's weights, or of the last task end without a branch.</summary>
    public string? LastRelease => Releases.Count > 0 ? Releases[^1].Path : null;

    /// <summary>The id of the last on-demand anneal released (0: none).</summary>
    public long AnnealsDone { get; init; }

    /// <summary>An on-demand anneal asked for and not released yet.</summary>
    public AnnealRequest? PendingAnneal { get; init; }
    /// <summary>The open anneal branch, if any.</summary>
    public BranchProgress? Branch { get; init; }
    public string? Error { get; init; }

    public static readonly TrainingProgress Empty = new();
}

/// <summary>An open anneal branch: its mode (paper-protocol or on-demand), steps taken and length.</summary>
public sealed record BranchProgress(string Mode, long Steps, long Length);
