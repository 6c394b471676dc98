using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using Orleans.Streams.Core;
using Streaming.Grains.Persistence;
using Streaming.Grains.Telemetry;
using System.Collections.Concurrent;
using System.Text.Json;
using Streaming.Training.Checkpoints;
using Streaming.Training.Data;
using Streaming.Training.Engine;
using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Training.Evaluation;
using Streaming.Training.Loop;
using Streaming.Schedules;
using Streaming.Training.Threading;

namespace Streaming.Grains;

/// <summary>What a run keeps in grain state: only what the grain alone knows. Its corpora in arrival order, its settings,
/// tokenizer, model and block order, the anneals asked for, and which checkpoint to resume from; how far that checkpoint has trained
/// (cursors, counts, schedule) is in the checkpoint itself.</summary>
[GenerateSerializer]
public sealed class RunState
{
    [Id(0)] public List<CorpusInfo> Corpora { get; set; } = [];

    /// <summary>The checkpoint the run resumes from: the newest one the grain has recorded (acknowledged to the store).</summary>
    [Id(1)] public string? Checkpoint { get; set; }
    // Ids 2 (the checkpoint's cursors) and 6 (its schedule state) were copies of what the checkpoint holds; earlier versions wrote them.

    /// <summary>On-demand anneals asked for so far; the last one is pending until its release exists.</summary>
    [Id(3)] public long AnnealsRequested { get; set; }
    [Id(4)] public int? PendingAnnealSteps { get; set; }

    /// <summary>The loss the annealing law predicted for the pending anneal when it was planned (null: asked for by length).</summary>
    [Id(10)] public PredictedLoss? PendingAnnealPrediction { get; set; }

    /// <summary>The tokenizer of the run's corpora (fixed by the first); null until one is ingested.</summary>
    [Id(5)] public string? Tokenizer { get; set; }

    /// <summary>How this run differs from the silo's defaults (`streaming run create`); fixed once it has a corpus.</summary>
    [Id(7)] public RunSettings? Settings { get; set; }

    /// <summary>The model (GptConfig JSON, its vocabulary the tokenizer's), fixed when the first corpus is queued; null before.</summary>
    [Id(8)] public string? Model { get; set; }

    /// <summary>The order of every task's blocks (<see cref="TaskOrders.Name"/>), fixed when the first corpus is queued; null before,
    /// and for a run that had corpora before runs could shuffle (it keeps the stored order it started with).</summary>
    [Id(9)] public string? Order { get; set; }
}

/// <summary>
/// One run. Corpora are trained in arrival order, fed by a <see cref="BlockFeed"/> (credits, order, redelivery):
/// the grain asks the feed what to request, asks the corpus' blocks for it, and hands arriving blocks to the feed.
/// Exactly once: the grain state points at the last checkpoint and the cursors inside it; a new
/// activation (after a crash, on any silo) resumes the model from there and asks the corpora to replay
/// from those cursors, so blocks after the checkpoint are trained again and none twice in the counts.
/// </summary>
[ImplicitStreamSubscription(StreamNames.BlocksNamespace)]
public sealed partial class TrainerGrain(
    IOptions<StreamingOptions> options,
    ILogger<TrainerGrain> logger,
    StreamingMetrics metrics,
    [PersistentState("run", StreamNames.Storage)] IPersistentState<RunState> state)
    : Grain, ITrainerGrain, IStreamSubscriptionObserver, IAsyncObserver<TokenBlock>
{
    static readonly TimeSpan PumpPeriod = TimeSpan.FromMilliseconds(200);

    TrainingLoop? loop;
    // A run with nothing left to train keeps no loop (no model, no optimizer in memory): its progress as last reported.
    TrainingProgress? finished;
    DateTime? finishedSince;
    CheckpointStore? checkpoints;
    // How far the recorded checkpoint has read each corpus: read from it, never stored apart (the failover's "work left").
    IReadOnlyDictionary<string, long> cursors = new Dictionary<string, long>();
    StoredCorpora? data;
    IDisposable? metered;
    IDisposable? meteredBacklog;
    long tokensToTrain;        // computed on the grain's turn (Corpora is not thread-safe), read by the metrics
    readonly SnapshotOutbox toEvaluate = new();   // filled by the training thread, sent by the pump
    BlockFeed? feed;           // set at activation
    bool unsaved;              // the state holds a change whose write failed: the pump writes it again

    string Run => this.GetPrimaryKeyString();
    List<CorpusInfo> Corpora => state.State.Corpora;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _ = Folders;   // a name that is not a run's (rooted, "..") is refused before anything is read or written
        if (Corpora.Count > 0 && (finished = FinishedProgress()) is null)
        {
            logger.LogInformation("run {Run}: resuming from {Checkpoint}", Run, state.State.Checkpoint ?? "the start");
            StartLoop(state.State.Checkpoint);
        }
        if (Corpora.Count > 0) Meter();
        feed = new BlockFeed(() => Corpora, cursors, new TrainingLoopQueue(() => loop), onLost: (corpus, from, to) =>
            logger.LogWarning("run {Run}: blocks {From}..{To} of {Corpus} did not arrive; asking again", Run, from, to, corpus));
        this.RegisterGrainTimer(PumpAsync, new GrainTimerCreationOptions(PumpPeriod, PumpPeriod) { KeepAlive = true });
        return base.OnActivateAsync(cancellationToken);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metered?.Dispose();
        meteredBacklog?.Dispose();
        loop?.Dispose();
        data?.Dispose();
        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    public async Task<CorpusInfo> EnqueueCorpusAsync(CorpusInfo corpus)
    {
        var configuration = Configuration;
        // The corpus counts blocks of the silo's size; the run cuts the same tokens into blocks of its own batch.
        corpus = corpus with { Blocks = TrainBlocks.Count(corpus.Tokens, configuration.BlockTokens), Tokens = TrainBlocks.Tokens(corpus.Tokens, configuration.BlockTokens) };
        // A run that caps its tasks trains the first MaxStepsPerTask blocks of each corpus (all full blocks but the last).
        if (configuration.MaxStepsPerTask is long cap && corpus.Blocks > cap)
            corpus = corpus with { Blocks = cap, Tokens = cap * configuration.BlockTokens };
        if (Corpora.FirstOrDefault(c => c.Name == corpus.Name) is { } queued)
        {
            if (queued == corpus) return corpus;   // the same ingest again (e.g. retried by a client)
            throw new ArgumentException($"corpus '{corpus.Name}' is already queued in run '{Run}'");
        }
        if (state.State.Model is null)
        {
            var model = Model;
            configuration.CheckFits(model, options.Value.Accelerator, Run);
            state.State.Model = JsonSerializer.Serialize(model);
        }
        if (Corpora.Count == 0) state.State.Order = configuration.Order.Name();
        Corpora.Add(corpus);
        await state.WriteStateAsync();
        await KeepAliveAsync();
        await GrainFactory.GetGrain<IRunRegistryGrain>(0).RegisterAsync(Run);
        if (loop is null)
        {
            // A finished run goes on from its last checkpoint (a new run from the start: it has none).
            finished = null;
            StartLoop(state.State.Checkpoint);
            Meter();
        }
        // No pump here: the timer pumps within its period.
        return corpus;
    }

    public Task<IReadOnlyList<string>> GetCorporaAsync() => Task.FromResult<IReadOnlyList<string>>([.. Corpora.Select(c => c.Name)]);

    public async Task<RunStatus> GetStatusAsync()
    {
        var p = Progress;
        var model = state.State.Model is null ? null : Model;
        var progress = Corpora.Select(c => new CorpusProgress(c.Name, p.State.TokensTrained.GetValueOrDefault(c.Name), c.Tokens,
            p.State.TokensAnnealOnly.GetValueOrDefault(c.Name), p.State.TokensSkipped.GetValueOrDefault(c.Name))).ToList();
        var (evaluations, evaluatorError) = Corpora.Count == 0 ? (EvaluationReport.Empty, null) : await EvaluationsAsync();
        var evaluationError = evaluatorError ?? (evaluations.Error is { } stopped ? $"the evaluator stopped: {stopped}" : null);
        var releaseLoss = evaluations.Releases.ToDictionary(r => r.Snapshot.Path, r => r.Loss);
        return new RunStatus(
            Run: Run,
            Phase: p.Error is not null ? $"failed: {p.Error}" : p.Paused is { } paused ? $"paused: {paused}" : p.Phase?.Name() ?? "idle",
            Step: p.Step,
            Lr: p.LearningRate,
            Loss: p.Loss,
            TokensPerSecond: p.TokensPerSecond,
            LastCheckpoint: state.State.Checkpoint,
            LastRelease: p.LastRelease,
            Corpora: progress,
            Device: p.Device,
            FirstLoss: p.FirstLoss,
            Evaluations: evaluations.Matrix,
            Silo: HostingSilo,
            Releases: [.. p.State.Releases.Select(r => new ReleaseInfo(r.Path, r.Task, r.Step, r.Mode.ToWire(),
                r.Path is not null && releaseLoss.TryGetValue(r.Path, out var loss) ? loss : new Dictionary<string, double>(),
                r.Predicted is { } predicted ? new PredictedLoss(predicted.Corpus, predicted.Loss) : null))],
            ReplayTokens: p.State.ReplayTokens,
            PendingAnnealSteps: state.State.PendingAnnealSteps,
            Branch: p.Branch is { } b ? new BranchStatus(b.Mode.ToWire(), b.Steps, b.Length) : null,
            Tokenizer: Tokenizer,
            Schedule: Configuration.Schedule.Kind,
            Order: Order.Name(),
            EvaluationError: evaluationError,
            Model: model?.ToString(),
            Parameters: model?.ParameterCount ?? 0,
            EvaluationsPending: evaluations.Pending,
            ModelInMemory: loop is not null,
            SkippedSteps: p.State.SkippedSteps,
            EvaluationsSkipped: evaluations.Skipped,
            Average: Average(p),
            Rollbacks: p.State.Rollbacks,
            LossSpikes: p.State.LossSpikes.Count,
            LastLossSpike: p.State.LossSpikes.Last is { } spike ? new LossSpikeStatus(spike.Step, spike.Loss, spike.Reference) : null);
    }

    AverageStatus? Average(TrainingProgress p)
    {
        if (Configuration.AverageDecay is not { } decay) return null;
        var last = p.State.Releases.LastOrDefault(r => r.Mode == ReleaseMode.Average);
        return new AverageStatus(decay, Math.Log(0.5) / Math.Log(decay), Configuration.TaskRelease.ToWire(), last?.Path, last?.Step);
    }

    /// <summary>One line for an exception: the unreadable state it comes from, or its first line.</summary>
    static string Describe(Exception e) => UnreadableStateException.In(e)?.Message ?? WorkerThread.OneLine(e);

    /// <summary>The run's evaluations, or why there are none: an evaluator that cannot start (its stored state
    /// unreadable, say) leaves the rest of the status answerable.</summary>
    async Task<(EvaluationReport, string?)> EvaluationsAsync()
    {
        try
        {
            return (await GrainFactory.GetGrain<IEvaluatorGrain>(Run).GetReportAsync(), null);
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            logger.LogWarning(e, "run {Run}: its evaluator did not answer", Run);
            return (EvaluationReport.Empty, $"no evaluations: {Describe(e)}");
        }
    }

    string Tokenizer => state.State.Tokenizer ?? options.Value.Tokenizer;

    /// <summary>The order of the run's tasks: as fixed by its first corpus; the stored order for a run from before that was kept.</summary>
    TaskOrder Order =>
        state.State.Order is { } name ? TaskOrders.Parse(name) ?? throw new InvalidOperationException($"run '{Run}' has an unknown block order '{name}' in its state")
        : Corpora.Count > 0 ? TaskOrder.File : Configuration.Order;

    RunConfiguration Configuration => RunConfiguration.From(options.Value, state.State.Settings);

    /// <summary>The run's model: as fixed by its first corpus; for a run from before that was kept, its checkpoint's;
    /// otherwise the configured shape with the tokenizer's vocabulary.</summary>
    GptConfig Model =>
        state.State.Model is { } json ? JsonSerializer.Deserialize<GptConfig>(json)!
        : state.State.Checkpoint is { } checkpoint && Corpora.Count > 0 && KeptModel(checkpoint) is { } kept ? kept
        : Configuration.Model.ForTokenizer(Tokenizers.Create(Tokenizer).VocabularySize);

    /// <summary>The model of a checkpoint an earlier version kept; null when it cannot be read (resume then reports why).</summary>
    static GptConfig? KeptModel(string checkpoint)
    {
        try { return Checkpoint.ReadManifest(checkpoint).Model; }
        catch (Exception e) when (e is CheckpointException or IOException) { return null; }
    }

    public async Task<string> ConfigureAsync(RunSettings settings)
    {
        if (Corpora.Count > 0 && settings != state.State.Settings)
            throw new InvalidOperationException($"run '{Run}' already has corpora; its settings are fixed (create a new run)");
        // Before RunConfiguration reads the folder's config.json.
        if (settings.Init is { } folder && CorpusRoots.InitRefusal(folder, options.Value.CorpusRoots) is { } refusal) throw new ArgumentException(refusal);
        var configuration = RunConfiguration.From(options.Value, settings);
        var ids = Tokenizers.Create(Tokenizer).VocabularySize;
        if (configuration.Init is { } init && configuration.Model.Tokens != ids)
            throw new ArgumentException($"--init '{init}' has a vocabulary of {configuration.Model.Tokens} ids, the run's tokenizer {Tokenizer} has {ids}" +
                (configuration.Model.Tokens == 50257 ? " (use --tokenizer gpt2)" : ""));
        configuration.CheckFits(configuration.Model.ForTokenizer(ids), options.Value.Accelerator, Run);
        state.State.Settings = settings;
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IRunRegistryGrain>(0).RegisterAsync(Run);
        return configuration.Describe();
    }

    public Task<string> GetScheduleConfigAsync() => Task.FromResult(JsonSerializer.Serialize(Configuration.Schedule, ScheduleState.JsonOptions));

    public async Task<string> UseTokenizerAsync(string? requested)
    {
        if (requested is not null && !Tokenizers.Names.Contains(requested))
            throw new ArgumentException($"unknown tokenizer '{requested}': use one of {string.Join(", ", Tokenizers.Names)}");
        // The model's vocabulary is the tokenizer's, so it cannot change once the run has a corpus.
        if (Corpora.Count > 0)
        {
            if (requested is not null && requested != Tokenizer)
                throw new ArgumentException($"run '{Run}' uses the tokenizer {Tokenizer} (set by its first corpus); all its corpora must, not {requested}");
            return Tokenizer;
        }
        var chosen = requested ?? state.State.Tokenizer ?? options.Value.Tokenizer;
        if (state.State.Tokenizer != chosen)
        {
            state.State.Tokenizer = chosen;
            await state.WriteStateAsync();
        }
        return chosen;
    }

    public async Task<string> ExportAsync(string release, string directory)
    {
        if (!Path.IsPathRooted(directory)) throw new ArgumentException($"--out '{directory}' must be an absolute path on the silo");
        var releases = Progress.State.Releases;
        var found = release == "latest" ? releases.LastOrDefault(r => r.Path is not null)
            : releases.FirstOrDefault(r => r.Path is not null && Path.GetFileName(r.Path) == release);
        if (found?.Path is not { } path)
            throw new ArgumentException(releases.Count == 0 ? $"run '{Run}' has no release yet"
                : $"run '{Run}' has no release '{release}' (its releases: {string.Join(", ", releases.Where(r => r.Path is not null).Select(r => Path.GetFileName(r.Path)))}, or latest)");
        var extra = new Dictionary<string, System.Text.Json.Nodes.JsonNode?>
        {
            ["tokenizer"] = Tokenizer, ["run"] = Run, ["release"] = Path.GetFileName(path), ["task"] = found.Task, ["step"] = found.Step, ["mode"] = found.Mode.ToWire(),
        };
        var (run, tokenizer) = (Run, Tokenizer);   // grain state is not for the thread pool
        // Reading and writing hundreds of megabytes: off the grain's scheduler.
        return await Task.Run(() =>
        {
            try
            {
                var (files, model) = HuggingFaceGpt2.ExportCheckpoint(path, directory, extra);
                var bytes = files.Sum(f => new FileInfo(f).Length);
                return $"exported release {Path.GetFileName(path)} of run {run} (step {found.Step:N0}, model {model}, tokenizer {tokenizer}) " +
                    $"to {directory}: {string.Join(", ", files.Select(Path.GetFileName))} ({bytes / 1e6:F1} MB)";
            }
            catch (CheckpointException e)
            {
                throw new ArgumentException($"export: {e.Message}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ArgumentException($"export to '{directory}': {e.Message}");
            }
        });
    }

    public async Task<AnnealTicket> AnnealAsync(int steps)
    {
        if (steps < 1) throw new ArgumentException($"--steps must be at least 1, not {steps}");
        CheckCanAnneal();
        return await RequestAnnealAsync(steps, prediction: null);
    }

    public async Task<PlannedAnneal> PlanAnnealAsync(AnnealPlanRequest request)
    {
        if ((request.Budget is null) == (request.TargetLoss is null)) throw new ArgumentException("give either a budget of steps or a target loss");
        if (request.Budget is < 1) throw new ArgumentException($"--budget must be at least 1, not {request.Budget}");
        if (request.TargetLoss is { } target && !(double.IsFinite(target) && target > 0))
            throw new ArgumentException($"--target-loss must be a positive number, not {target}");
        if (request.MaxSteps is < 1) throw new ArgumentException($"--max-steps must be at least 1, not {request.MaxSteps}");
        CheckCanAnneal();
        var p = Progress;
        if (p.State.Tasks.Count == 0) throw new InvalidOperationException($"run '{Run}' has trained nothing yet: there is no curve to plan from");
        if (p.Branch is { } branch)
            throw new InvalidOperationException($"run '{Run}' is in a {branch.Mode.ToWire()} anneal branch; plan once it is back on the main trajectory");
        var (evaluations, evaluatorError) = await EvaluationsAsync();
        if (evaluatorError is not null) throw new InvalidOperationException($"run '{Run}': {evaluatorError}");
        var ahead = BlocksAhead;
        var limit = request.MaxSteps ?? AnnealPlanRequest.DefaultMaxSteps;
        var limitIsBlocksLeft = request.Start && ahead < limit;
        if (limitIsBlocksLeft) limit = (int)Math.Max(1, ahead);
        var configuration = Configuration;
        var plan = AnnealPlanning.Plan(Run, configuration.Schedule, configuration.EvaluateEvery, evaluations, p.State.Tasks[^1], p.MainSteps, request,
            limit, limitIsBlocksLeft);
        if (!request.Start) return plan;
        return plan with { Ticket = await RequestAnnealAsync(plan.Steps, new PredictedLoss(plan.Corpus, plan.PredictedLoss)) };
    }

    /// <summary>Refuses an anneal the run cannot take now: no corpora, a schedule without branches, one already pending.</summary>
    void CheckCanAnneal()
    {
        if (Corpora.Count == 0) throw new InvalidOperationException($"run '{Run}' has no corpora yet: ingest one first");
        var schedule = Configuration.Schedule;
        if (!schedule.ParsedKind.HasBranches())
            throw new InvalidOperationException($"run '{Run}' uses a {schedule.Kind} schedule, which has no anneal branches");
        if (state.State.PendingAnnealSteps is { } pending)
            throw new InvalidOperationException($"run '{Run}' already has an on-demand anneal of {pending} steps pending; wait for its release");
    }

    /// <summary>Blocks queued and not read yet: what an on-demand branch can train on.</summary>
    long BlocksAhead => Corpora.Sum(c => c.Blocks) - Progress.State.NextSequence.Values.Sum();

    /// <summary>Asks the loop for a branch of <paramref name="steps"/> on the next blocks (kept in grain state until released).</summary>
    async Task<AnnealTicket> RequestAnnealAsync(int steps, PredictedLoss? prediction)
    {
        // The branch trains on the next blocks: there must be enough of them, or it would wait for data that may never come.
        var ahead = BlocksAhead;
        if (ahead < steps || loop is null)
            throw new InvalidOperationException($"only {ahead} blocks of run '{Run}' are left to train, fewer than {steps}: ingest more text or ask for fewer steps");
        state.State.AnnealsRequested++;
        state.State.PendingAnnealSteps = steps;
        state.State.PendingAnnealPrediction = prediction;
        await state.WriteStateAsync();
        loop.RequestAnneal(PendingAnneal!);
        return new AnnealTicket(state.State.AnnealsRequested, steps, ahead);
    }

    /// <summary>The on-demand anneal asked for and not released yet, as the loop takes it.</summary>
    AnnealRequest? PendingAnneal => state.State.PendingAnnealSteps is { } steps
        ? new AnnealRequest(state.State.AnnealsRequested, steps,
            state.State.PendingAnnealPrediction is { } p ? new AnnealPrediction(p.Corpus, p.Loss) : null)
        : null;

    public async Task<ReleaseInfo> ReleaseAverageAsync()
    {
        if (Corpora.Count == 0) throw new InvalidOperationException($"run '{Run}' has no corpora yet: ingest one first");
        if (Configuration.AverageDecay is null)
            throw new InvalidOperationException($"run '{Run}' keeps no weight average: create a run with --average-decay D (or --release average|both)");
        if (loop is null)
        {
            // A finished run's model comes back into memory to release its average (and is let go again later).
            finished = null;
            StartLoop(state.State.Checkpoint);
            Meter();
        }
        ReleaseReport release;
        try
        {
            release = await loop!.ReleaseAverageAsync();
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"run '{Run}': {e.Message}");
        }
        return new ReleaseInfo(release.Path, release.Task, release.Step, release.Mode.ToWire(), new Dictionary<string, double>());
    }

    void StartLoop(string? resumeFrom)
    {
        var settings = options.Value;
        data = new StoredCorpora(settings.DataDirectory, settings.ValidationBlocks);
        loop = new TrainingLoop(new TrainingLoopOptions
        {
            Model = Model,
            MicroBatchRows = Configuration.MicroBatchRows,
            Precision = Configuration.Precision,
            Torch = settings.Torch,
            Schedule = Configuration.Schedule,
            Seed = Configuration.Seed,
            QueueCapacity = settings.Window,
            Checkpoints = Checkpoints,
            Folders = Folders,
            CheckpointEvery = settings.CheckpointEvery,
            ResumeFrom = resumeFrom,
            InitFrom = Configuration.Init,
            Data = data,
            EvaluateEvery = Configuration.EvaluateEvery,
            OnSnapshot = toEvaluate.Add,
            ReplayFraction = Configuration.ReplayFraction,
            AverageDecay = Configuration.AverageDecay,
            TaskRelease = Configuration.TaskRelease,
            PendingAnneal = PendingAnneal,
            Logger = logger,
            Run = Run,
        });
    }

    /// <summary>What the run reports: the live loop's progress, or a finished run's.</summary>
    TrainingProgress Progress => loop?.Progress ?? finished ?? TrainingProgress.Empty;

    /// <summary>The run's metrics, from whatever reports its progress; once per activation.</summary>
    void Meter()
    {
        metered ??= metrics.Track(Run, () => Progress);
        meteredBacklog ??= metrics.TrackTokensToTrain(Run, () => Interlocked.Read(ref tokensToTrain));
    }

    /// <summary>The progress of a run with nothing left to train, read from its recorded checkpoint; null when it has work
    /// left (or an anneal pending), or when the checkpoint cannot be read (the loop then resumes and reports why).</summary>
    TrainingProgress? FinishedProgress()
    {
        if (HasUnfinishedWork || state.State.PendingAnnealSteps is not null || state.State.Checkpoint is not { } checkpoint) return null;
        try
        {
            // The device is the one a loop would take here (status shows the same after a restart as before).
            return TrainingLoop.ProgressAt(checkpoint, Configuration.Schedule) with
            {
                Device = TorchRuntime.Initialize(options.Value.Torch).ToString(), AverageDecay = Configuration.AverageDecay,
            };
        }
        catch (Exception e) when (e is CheckpointException or IOException or JsonException)
        {
            logger.LogWarning(e, "run {Run}: checkpoint {Checkpoint} cannot be read without loading it", Run, checkpoint);
            return null;
        }
    }

    /// <summary>Lets go of a loop that has trained everything, whose last checkpoint is recorded and snapshots sent, once
    /// it has stayed so for <see cref="StreamingOptions.FinishedRunKeptFor"/> (corpora often come in quick succession, and
    /// loading a large model again takes time): a finished run holds no model in memory. A new corpus starts a loop
    /// again from that checkpoint.</summary>
    void RetireLoopWhenFinished(TrainingProgress progress)
    {
        if (loop is null || progress.Error is not null || loop.Queued > 0 || toEvaluate.Count > 0 || progress.PendingAnneal is not null
            || state.State.PendingAnnealSteps is not null || HasUnfinishedWork || progress.LastCheckpoint?.Path != state.State.Checkpoint)
        {
            finishedSince = null;
            return;
        }
        finishedSince ??= DateTime.UtcNow;
        if (DateTime.UtcNow - finishedSince < options.Value.FinishedRunKeptFor) return;
        finishedSince = null;
        finished = progress;
        loop.Dispose();
        loop = null;
        data?.Dispose();
        data = null;
        logger.LogInformation("run {Run}: every corpus trained; its model is out of memory until a new corpus comes", Run);
    }

    async Task PumpAsync(CancellationToken cancellationToken)
    {
        if (loop is null) return;
        try
        {
            await toEvaluate.SendAsync(GrainFactory.GetGrain<IEvaluatorGrain>(Run).EvaluateAsync);
        }
        catch (Exception e)
        {
            // Kept for the next pump; training and checkpoint bookkeeping go on meanwhile.
            logger.LogWarning(e, "run {Run}: the evaluator did not take {Count} snapshots; sending them again", Run, toEvaluate.Count);
        }
        var progress = loop.Progress;
        Interlocked.Exchange(ref tokensToTrain, Corpora.Sum(c => Math.Max(0,
            c.Tokens - progress.State.TokensTrained.GetValueOrDefault(c.Name) - progress.State.TokensAnnealOnly.GetValueOrDefault(c.Name))));
        var changed = false;
        if (progress.LastCheckpoint is { } saved && saved.Path != state.State.Checkpoint)
        {
            state.State.Checkpoint = saved.Path;
            cursors = saved.State.NextSequence;
            changed = true;
        }
        if (state.State.PendingAnnealSteps is not null && progress.State.AnnealsDone >= state.State.AnnealsRequested)
        {
            state.State.PendingAnnealSteps = null;
            state.State.PendingAnnealPrediction = null;
            changed = true;
        }
        if (changed) unsaved = true;
        if (unsaved) await SaveCheckpointPointerAsync();
        RetireLoopWhenFinished(progress);
        // A loop that has stopped (e.g. its checkpoint is gone) takes no blocks: asking for them would only fail again and again.
        if (loop is null || progress.Error is not null || feed?.NextRequest() is not { } request) return;
        var configuration = Configuration;
        int sent;
        try
        {
            sent = await GrainFactory.GetGrain<ICorpusBlocksGrain>(request.Corpus).PublishAsync(Run, request.From, request.Count, configuration.BlockTokens,
                Order == TaskOrder.Shuffled ? configuration.Seed : null);
        }
        catch (DamagedCorpusException e)
        {
            logger.LogError("run {Run}: {Damage}", Run, e.Message);
            loop?.Fail(e.Message);
            return;
        }
        feed.Requested(request, sent);
    }

    /// <summary>
    /// Records the newest checkpoint (and a released anneal) in grain state, then lets the store delete older ones. A write
    /// that fails (Redis restarting) is tried again on every pump until one succeeds: its change is already in memory, so
    /// nothing else would write it, and a run whose last write failed would stay unfinished in Redis (a restart would train
    /// its end again). Training goes on meanwhile, its blocks asked for as usual: the checkpoints stay on disk, the store
    /// keeps every one from the last recorded. A version conflict (Redis applied a write whose answer the restart lost)
    /// is left to Orleans, which deactivates the grain: the next activation reads the state and resumes from it.
    /// </summary>
    async Task SaveCheckpointPointerAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception e) when (StorageFailure.IsTransient(e))
        {
            logger.LogWarning("run {Run}: could not record checkpoint {Checkpoint} ({Error}); trying again on the next pump",
                Run, state.State.Checkpoint, StorageFailure.OneLine(e));
            return;
        }
        unsaved = false;
        if (state.State.Checkpoint is { } persisted) Checkpoints.Acknowledge(persisted);
    }

    public Task OnNextAsync(TokenBlock block, StreamSequenceToken? token = null)
    {
        feed?.Accept(block);
        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        logger.LogError(ex, "run {Run}: block stream failed", Run);
        return Task.CompletedTask;
    }

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<TokenBlock>().ResumeAsync(this);
}
