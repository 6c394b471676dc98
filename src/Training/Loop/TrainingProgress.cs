using Streaming.Schedules;

namespace Streaming.Training.Loop;

/// <summary>An immutable snapshot of the loop, published after every step for status queries from any thread: the
/// loop's saved <see cref="State"/> and what only the live loop knows (rate, phase, device, the open branch).</summary>
public sealed record TrainingProgress
{
    /// <summary>What every checkpoint saves of the loop (cursors, counts, releases, losses).</summary>
    public LoopState State { get; init; } = LoopState.Empty;

    /// <summary>Optimizer steps of the main trajectory (branch steps are undone when the branch returns to its fork).</summary>
    public long Step { get; init; }

    /// <summary>Steps the schedule's main trajectory has taken (skipped non-finite steps included; branch steps not): its
    /// position, from which its learning rate and rate history follow.</summary>
    public long MainSteps { get; init; }

    /// <summary>Optimizer steps executed in all, main and branch alike (the schedule's step counter; never goes back).</summary>
    public long StepsExecuted { get; init; }

    /// <summary>The last step's loss (NaN before the first step, or when it was not finite).</summary>
    public double Loss => State.LastLoss ?? double.NaN;

    /// <summary>The last step's loss was NaN or infinite (<see cref="Loss"/> is NaN before the first step too; this tells them apart).</summary>
    public bool NonFiniteLoss { get; init; }
    public double FirstLoss => State.FirstLoss ?? double.NaN;
    public double LearningRate { get; init; }
    /// <summary>The schedule's phase at the next step; null before the loop has a schedule.</summary>
    public SchedulePhase? Phase { get; init; }
    public double TokensPerSecond { get; init; }
    public string Device { get; init; } = "";

    /// <summary>Decay per step of the run's moving average of its weights; null when it keeps none.</summary>
    public double? AverageDecay { get; init; }

    /// <summary>The newest checkpoint on disk and the loop state in it; the owner records it as the one to resume from.</summary>
    public CheckpointReport? LastCheckpoint { get; init; }

    /// <summary>The newest release: the folder of the last annealed branch's weights, or of the last task end without a branch.</summary>
    public string? LastRelease => State.Releases.Count > 0 ? State.Releases[^1].Path : null;

    /// <summary>An on-demand anneal asked for and not released yet.</summary>
    public AnnealRequest? PendingAnneal { get; init; }

    /// <summary>The open anneal branch, if any.</summary>
    public BranchProgress? Branch { get; init; }

    /// <summary>Why the loop waits before its next step (one line: the data volume is full, how full, what the waiting save
    /// needs); null while it trains. It goes on by itself once there is room.</summary>
    public string? Paused { get; init; }

    /// <summary>Why the loop stopped (one line; the log has the whole exception); null while it works.</summary>
    public string? Error { get; init; }

    public static readonly TrainingProgress Empty = new();
}

/// <summary>An open anneal branch: its mode (the release it makes: paper-protocol or on-demand), steps taken and length.</summary>
public sealed record BranchProgress(ReleaseMode Mode, long Steps, long Length);

/// <summary>A checkpoint that is safely on disk, with the loop state it holds (its cursors say how far it has read).</summary>
public sealed record CheckpointReport(string Path, long Step, LoopState State);
