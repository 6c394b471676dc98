using Orleans.Concurrency;

namespace Streaming.Grains;

/// <summary>One run (keyed by its name): trains one model on the corpora queued to it, in arrival order.</summary>
public interface ITrainerGrain : IGrainWithStringKey
{
    /// <summary>The tokenizer every corpus of the run is ingested with: fixed by its first corpus (<paramref name="requested"/>,
    /// or the silo's default when null); a different one later is refused with <see cref="ArgumentException"/>.</summary>
    Task<string> UseTokenizerAsync(string? requested);

    /// <summary>Sets how the run trains (schedule, replay, seed, steps per task) before its first corpus; returns a
    /// one-line description. Bad values: <see cref="ArgumentException"/>; a run with corpora: <see cref="InvalidOperationException"/>.</summary>
    Task<string> ConfigureAsync(RunSettings settings);

    /// <summary>The run's effective learning-rate schedule (its settings over the silo's defaults): a ScheduleConfig
    /// as JSON, so clients can plan its learning rate against step exactly as the trainer runs it.</summary>
    [AlwaysInterleave]
    Task<string> GetScheduleConfigAsync();

    /// <summary>Queues a corpus as the run's next task; training of earlier corpora goes on. Returns the corpus as the run
    /// trains it: in blocks of its own batch, capped by its task steps.</summary>
    Task<CorpusInfo> EnqueueCorpusAsync(CorpusInfo corpus);

    [AlwaysInterleave]
    Task<RunStatus> GetStatusAsync();

    /// <summary>The names of the run's corpora in the order they were queued (cheap: no evaluator is asked).</summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<string>> GetCorporaAsync();

    /// <summary>Asks for a release now: an anneal branch of <paramref name="steps"/> steps on the next blocks,
    /// forked at the next main step; the main trajectory then trains those blocks itself.</summary>
    Task<AnnealTicket> AnnealAsync(int steps);

    /// <summary>Plans an on-demand anneal from the run's own validation curve (the annealing law fitted to the evaluations of
    /// its main trajectory on the current task's corpus): a branch of the budget's length, or the shortest that the law says
    /// reaches the target loss. With <see cref="AnnealPlanRequest.Start"/> it then asks for that branch as <see cref="AnnealAsync"/>
    /// does, and its release keeps the predicted loss. What cannot be planned (too few evaluations, a schedule without
    /// branches, a target out of reach): <see cref="InvalidOperationException"/> in one line.</summary>
    Task<PlannedAnneal> PlanAnnealAsync(AnnealPlanRequest request);

    /// <summary>Releases the run's moving average of its weights now, without a training step (after an open anneal branch):
    /// stored, evaluated and exportable like any release; its loss comes with the run's releases once evaluated. A run that
    /// keeps no average, or has trained nothing: <see cref="InvalidOperationException"/>. Interleaves: the trainer keeps
    /// being fed while it waits.</summary>
    [AlwaysInterleave]
    Task<ReleaseInfo> ReleaseAverageAsync();

    /// <summary>Writes release <paramref name="release"/> (its folder name, or "latest") into <paramref name="directory"/> on the
    /// silo as model.safetensors + config.json in the Hugging Face GPT-2 layout; returns what was written, in one line.</summary>
    Task<string> ExportAsync(string release, string directory);
}

/// <summary>An accepted on-demand anneal: its id in the run and the blocks queued ahead of training when it was asked for.</summary>
[GenerateSerializer, Immutable]
public sealed record AnnealTicket(
    [property: Id(0)] long Id,
    [property: Id(1)] int Steps,
    [property: Id(2)] long BlocksAhead);

/// <summary>What to plan an anneal for: a <see cref="Budget"/> of steps, or the shortest branch of at most
/// <see cref="MaxSteps"/> (default <see cref="DefaultMaxSteps"/>) that reaches <see cref="TargetLoss"/>; give one of the two.
/// <see cref="Start"/>: ask for the planned branch at once (false: only say what it would be).</summary>
[GenerateSerializer, Immutable]
public sealed record AnnealPlanRequest(
    [property: Id(0)] int? Budget,
    [property: Id(1)] double? TargetLoss,
    [property: Id(2)] int? MaxSteps,
    [property: Id(3)] bool Start)
{
    public const int DefaultMaxSteps = 1000;
}

/// <summary>A planned anneal: its length, the validation loss on <see cref="Corpus"/> the fitted law predicts at its end, the
/// fit (how many evaluations at which main step, its root-mean-square error, its momentum decay), and the ticket of the branch
/// when it was started.</summary>
[GenerateSerializer, Immutable]
public sealed record PlannedAnneal(
    [property: Id(0)] int Steps,
    [property: Id(1)] double PredictedLoss,
    [property: Id(2)] string Corpus,
    [property: Id(3)] int Points,
    [property: Id(4)] double FitError,
    [property: Id(5)] long MainStep,
    [property: Id(6)] AnnealTicket? Ticket,
    // The decay per step of the annealing momentum the fit chose (docs/schedules.md).
    [property: Id(7)] double MomentumDecay);

/// <summary>The validation loss on <see cref="Corpus"/> that a planned anneal's release was predicted to reach.</summary>
[GenerateSerializer, Immutable]
public sealed record PredictedLoss(
    [property: Id(0)] string Corpus,
    [property: Id(1)] double Loss);

/// <summary>A release of a run: the weights of an annealed branch, or of a task's end without one, and their validation
/// loss per corpus. Mode: paper-protocol, on-demand, task-end or average. A planned anneal's release has the loss predicted
/// for it (null for others).</summary>
[GenerateSerializer, Immutable]
public sealed record ReleaseInfo(
    [property: Id(0)] string? Path,
    [property: Id(1)] string Task,
    [property: Id(2)] long Step,
    [property: Id(3)] string Mode,
    [property: Id(4)] IReadOnlyDictionary<string, double> Loss,
    [property: Id(5)] PredictedLoss? Predicted = null);

/// <summary>What `streaming status` shows of a run; the JSON names are a contract (docs/architecture.md, "Contracts").</summary>
[GenerateSerializer, Immutable]
public sealed record RunStatus(
    [property: Id(0)] string Run,
    [property: Id(1)] string Phase,
    [property: Id(2)] long Step,
    [property: Id(3)] double Lr,
    [property: Id(4)] double Loss,
    [property: Id(5)] double TokensPerSecond,
    [property: Id(6)] string? LastCheckpoint,
    [property: Id(7)] string? LastRelease,
    [property: Id(8)] IReadOnlyList<CorpusProgress> Corpora,
    [property: Id(9)] string Device,
    [property: Id(10)] double FirstLoss,
    [property: Id(11)] IReadOnlyList<TaskLosses> Evaluations,
    // The silo hosting the trainer (its address), so operators and tests can see where training runs.
    [property: Id(12)] string Silo,
    [property: Id(13)] IReadOnlyList<ReleaseInfo> Releases,
    [property: Id(14)] long ReplayTokens,
    [property: Id(15)] int? PendingAnnealSteps,
    [property: Id(16)] BranchStatus? Branch,
    [property: Id(17)] string Tokenizer,
    [property: Id(18)] string Schedule,
    // Why Evaluations is empty when the run's evaluator cannot answer; null when it answered.
    [property: Id(19)] string? EvaluationError = null,
    // The model's shape ("12x768 h12 ctx1024 v50304(50257)") and parameter count; null before the run has a model.
    [property: Id(20)] string? Model = null,
    [property: Id(21)] long Parameters = 0,
    // Snapshots saved for evaluation that the run's evaluator has not scored yet: how far it lags behind training.
    [property: Id(22)] int EvaluationsPending = 0,
    // Whether the run's model and optimizer are in the silo's memory: not for a run with nothing left to train.
    [property: Id(23)] bool ModelInMemory = false,
    // Steps skipped because their loss or gradient was NaN or infinite (the weights stayed as they were).
    [property: Id(24)] long SkippedSteps = 0,
    // Main-cadence snapshots the evaluator passed over, unevaluated, because newer ones were waiting.
    [property: Id(25)] long EvaluationsSkipped = 0,
    // The order of each task's blocks: shuffled or file.
    [property: Id(26)] string? Order = null,
    // The moving average of the weights the run keeps; null when it keeps none.
    [property: Id(27)] AverageStatus? Average = null,
    // Times the run went back to its last checkpoint after too many skipped steps in a row.
    [property: Id(28)] int Rollbacks = 0,
    // Training losses reported as spikes, and the last one; null before any.
    [property: Id(29)] long LossSpikes = 0,
    [property: Id(30)] LossSpikeStatus? LastLossSpike = null);

/// <summary>A training loss reported as a spike: the step, the loss and the reference it exceeded.</summary>
[GenerateSerializer, Immutable]
public sealed record LossSpikeStatus(
    [property: Id(0)] long Step,
    [property: Id(1)] double Loss,
    [property: Id(2)] double Reference);

/// <summary>A run's moving average of its weights: its decay per step and half-life, what its task ends release (anneal,
/// average or both), and its newest release.</summary>
[GenerateSerializer, Immutable]
public sealed record AverageStatus(
    [property: Id(0)] double Decay,
    [property: Id(1)] double HalfLifeSteps,
    [property: Id(2)] string TaskRelease,
    [property: Id(3)] string? LastRelease,
    [property: Id(4)] long? LastReleaseStep);

/// <summary>The anneal branch being trained: paper-protocol or on-demand, and how far it has got.</summary>
[GenerateSerializer, Immutable]
public sealed record BranchStatus(
    [property: Id(0)] string Mode,
    [property: Id(1)] long Steps,
    [property: Id(2)] long Length);

/// <summary>Validation loss per corpus right after a task finished: one row of the run's loss matrix.</summary>
[GenerateSerializer, Immutable]
public sealed record TaskLosses(
    [property: Id(0)] string AfterTask,
    [property: Id(1)] long Step,
    [property: Id(2)] IReadOnlyDictionary<string, double> Loss);

[GenerateSerializer, Immutable]
public sealed record CorpusProgress(
    [property: Id(0)] string Name,
    // Trained by the main trajectory: what the model carries forward.
    [property: Id(1)] long TokensTrained,
    [property: Id(2)] long TokensTotal,
    // Trained only by an anneal branch (a task's last blocks under the paper protocol): its release saw them, the main trajectory did not.
    [property: Id(3)] long TokensAnnealOnly = 0,
    // Of the tokens read, those in skipped steps (non-finite, or undone by a rollback): passed over for good.
    [property: Id(4)] long TokensSkipped = 0)
{
    /// <summary>Tokens read from the corpus so far: trained by the main trajectory or by an anneal branch only.</summary>
    public long TokensRead => TokensTrained + TokensAnnealOnly;
}
