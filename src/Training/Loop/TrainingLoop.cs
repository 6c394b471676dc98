using System.Diagnostics;
using System.Threading.Channels;
using Streaming.Training.Checkpoints;
using Streaming.Training.Engine;
using Streaming.Training.Evaluation;
using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Training.Optim;
using Streaming.Schedules;
using static TorchSharp.torch;

namespace Streaming.Training.Loop;

/// <summary>How a run trains: model, optimizer, schedule, device, queue size, and where validation data comes from.</summary>
public sealed record TrainingLoopOptions
{
    public required GptConfig Model { get; init; }

    /// <summary>Rows per forward/backward pass within a step (null: the whole batch at once).</summary>
    public int? MicroBatchRows { get; init; }

    /// <summary>auto (bf16 on CUDA, fp32 on CPU), fp32 or bf16.</summary>
    public string Precision { get; init; } = "auto";
    public AdamWConfig Optimizer { get; init; } = new();
    public ScheduleConfig Schedule { get; init; } = new();
    public TorchOptions Torch { get; init; } = new();
    public int QueueCapacity { get; init; } = 8;
    public long Seed { get; init; } = 1;

    /// <summary>Where checkpoints go (one folder each, the newest two kept). Null: no checkpoints.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Where releases (annealed branches, and task ends without a branch) go, one folder each. Null: next to the checkpoints.</summary>
    public string? ReleaseDirectory { get; init; }

    /// <summary>Whether the owner calls <see cref="TrainingLoop.AcknowledgeCheckpoint"/> once it has persisted a checkpoint's
    /// report; then no checkpoint from the acknowledged one on is deleted before a newer one is acknowledged.</summary>
    public bool AcknowledgesCheckpoints { get; init; }

    /// <summary>Steps between checkpoints; one is also written at the end of every task and at every anneal fork.</summary>
    public int CheckpointEvery { get; init; } = 50;

    /// <summary>A checkpoint to resume from: model, optimizer, schedule and cursors exactly as they were.</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Pretrained weights (Hugging Face GPT-2 layout) for a run that starts without a checkpoint.</summary>
    public string? InitFrom { get; init; }

    /// <summary>Where the main cadence's snapshots for the evaluators go (they delete them). Null: next to the checkpoints.</summary>
    public string? SnapshotDirectory { get; init; }

    /// <summary>Main-trajectory steps between snapshots of the live model for evaluation (0: none; task ends and releases always).</summary>
    public int EvaluateEvery { get; init; }

    /// <summary>Called on the training thread with every snapshot saved for evaluation; must return at once.</summary>
    public Action<Snapshot>? OnSnapshot { get; init; }

    /// <summary>The train blocks of earlier corpora, for replay. Null: no replay.</summary>
    public ICorpusData? Data { get; init; }

    /// <summary>The fraction of every batch's rows drawn from earlier corpora (0: no replay).</summary>
    public double ReplayFraction { get; init; }

    /// <summary>An on-demand anneal asked for before this loop started (e.g. before a crash); ignored if already released.</summary>
    public AnnealRequest? PendingAnneal { get; init; }
}

/// <summary>
/// The training thread of one run. Blocks arrive through a bounded channel from any thread (the trainer
/// grain writes, never waits); one dedicated thread owns the model and does all tensor work, because
/// TorchSharp's dispose scopes and libtorch's grad mode are per thread. Progress is published as an
/// immutable snapshot after every step.
/// Every task yields one release, its row of the loss matrix: the paper-protocol branch over its last
/// steps, or, for a task without one (a kind without branches, or no anneal fraction), the main trajectory
/// at the task's end.
/// </summary>
public sealed class TrainingLoop : IDisposable
{
    const string SchedulePart = "schedule", LoopPart = "loop";

    readonly TrainingLoopOptions options;
    readonly Channel<TrainingBlock> queue;
    readonly CancellationTokenSource stopping = new();
    readonly Thread thread;
    readonly ReplaySampler? replay;
    readonly Dictionary<string, long> tokensTrained = [];
    readonly Dictionary<string, long> nextSequence = [];
    readonly List<string> tasks = [];
    readonly List<ReleaseReport> releases = [];
    readonly List<Snapshot> taskSnapshots = [];   // loss-matrix rows and releases: kept in checkpoints, sent again after a resume
    readonly Queue<string> checkpoints = new();
    volatile string? acknowledged;
    readonly Stopwatch clock = new();
    readonly object requestLock = new();
    AnnealRequest? pendingAnneal;
    string? fork;                                  // the checkpoint the open branch returns to
    AnnealRequest? onDemand;                       // the open branch, when it is an on-demand one
    readonly List<TrainingBlock> branchBlocks = [];  // an on-demand branch's blocks: the main trajectory trains them after it
    readonly Queue<TrainingBlock> retrain = new();
    volatile TrainingProgress progress = TrainingProgress.Empty;
    long annealsDone, replayTokens;

    public TrainingLoop(TrainingLoopOptions options)
    {
        this.options = options;
        pendingAnneal = options.PendingAnneal;
        if (options.ReplayFraction is < 0 or >= 1 || double.IsNaN(options.ReplayFraction))
            throw new ArgumentException($"replay fraction must be in [0, 1), not {options.ReplayFraction}");
        if (options.ReplayFraction > 0 && options.Data is { } data) replay = new ReplaySampler(options.ReplayFraction, options.Seed, data);
        queue = Channel.CreateBounded<TrainingBlock>(new BoundedChannelOptions(options.QueueCapacity) { SingleReader = true });
        thread = new Thread(Run) { IsBackground = true, Name = "trainer" };
        thread.Start();
    }

    public int QueueCapacity => options.QueueCapacity;

    /// <summary>Blocks waiting to be trained.</summary>
    public int Queued => queue.Reader.Count;

    public TrainingProgress Progress => progress;

    /// <summary>Queues a block; false when the queue is full (the caller asked for more than it had room for).</summary>
    public bool TryEnqueue(TrainingBlock block) => queue.Writer.TryWrite(block);

    /// <summary>Asks for an on-demand anneal: a branch of A steps on the next blocks, forked at the next main step.</summary>
    public void RequestAnneal(AnnealRequest request)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(request.Steps, 1);
        lock (requestLock)
        {
            if (pendingAnneal is { } pending && pending != request)
                throw new InvalidOperationException($"an on-demand anneal of {pending.Steps} steps is already pending");
            pendingAnneal = request;
        }
        progress = progress with { PendingAnneal = request };
    }

    void Run()
    {
        try
        {
            var device = TorchRuntime.Initialize(options.Torch);
            using var trainer = new ModelTrainer(options.Model, options.Optimizer, new TrainerOptions { Seed = options.Seed, MicroBatchRows = options.MicroBatchRows, Precision = options.Precision }, device);
            if (options.ResumeFrom is null && options.InitFrom is { } init) trainer.LoadPretrained(init);
            var schedule = options.ResumeFrom is { } resume ? Resume(trainer, resume) : new LearningRateSchedule(options.Schedule);
            progress = progress with { Device = trainer.Device.ToString(), PendingAnneal = PendingAnneal() };
            clock.Start();
            var reader = queue.Reader;
            while (true)
            {
                if (!retrain.TryDequeue(out var block) && !reader.TryRead(out block))
                {
                    if (!reader.WaitToReadAsync(stopping.Token).AsTask().GetAwaiter().GetResult()) break;
                    continue;
                }
                Process(trainer, schedule, block);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            progress = progress with { Phase = "failed", Error = e.Message };
        }
    }

    /// <summary>One block is one optimizer step: on the main trajectory, or in the open anneal branch.</summary>
    void Process(ModelTrainer trainer, LearningRateSchedule schedule, TrainingBlock block)
    {
        if (!schedule.InBranch)
        {
            if (tasks.Count == 0 || tasks[^1] != block.Corpus)
            {
                // A new corpus is a new task: the schedule decides what that means (infinite: nothing re-warms).
                schedule.TaskStarted(block.TaskSteps);
                tasks.Add(block.Corpus);
                progress = progress with { Tasks = [.. tasks] };
            }
            if (schedule.AnnealDue) Fork(trainer, schedule, null);
            else if (PendingAnneal() is { } request && schedule.Config.ParsedKind.HasBranches() && !schedule.TaskComplete)
                Fork(trainer, schedule, request);
        }
        // An on-demand branch only borrows its blocks: they are trained again on the main trajectory after it.
        var borrowed = onDemand is not null;
        if (borrowed) branchBlocks.Add(block);
        Train(trainer, schedule, block, counted: !borrowed);
        var taskEnded = !borrowed && block.Sequence == block.TaskSteps - 1;
        // A paper-protocol branch ends on its task's last block: its release is the task's row of the loss matrix.
        var taskReleased = taskEnded && schedule.InBranch && onDemand is null;
        if (schedule.InBranch && schedule.BranchSteps >= schedule.BranchLength) Release(trainer, schedule);
        // A task without that branch ends on the main trajectory: the model at its end is its release instead.
        if (taskEnded && !taskReleased)
            KeepRelease(trainer, schedule, TaskReleaseName(schedule), tasks[^1], ReleaseMode.TaskEnd, SnapshotKind.TaskEnd);
        else if (!schedule.InBranch && options.EvaluateEvery > 0 && schedule.MainSteps % options.EvaluateEvery == 0 && onDemand is null)
            SnapshotMain(trainer, schedule);
        // No periodic checkpoints inside a branch: a crash there resumes from the fork and redoes the branch.
        if (!schedule.InBranch && (taskEnded || schedule.StepsExecuted % options.CheckpointEvery == 0)) Checkpoint(trainer, schedule);
    }

    string BranchMode => onDemand is null ? ReleaseMode.PaperProtocol : ReleaseMode.OnDemand;

    AnnealRequest? PendingAnneal()
    {
        lock (requestLock)
        {
            if (pendingAnneal is { } r && r.Id <= annealsDone) pendingAnneal = null;   // released before a restart
            return pendingAnneal;
        }
    }

    void Train(ModelTrainer trainer, LearningRateSchedule schedule, TrainingBlock block, bool counted)
    {
        var started = clock.Elapsed;
        var learningRate = schedule.LearningRate;
        var phase = schedule.PhaseName;
        var rows = new List<int[]> { block.Tokens };
        if (replay is not null)
        {
            var replayed = replay.Draw(schedule.StepsExecuted, [.. tasks.Distinct().Where(t => t != block.Corpus)],
                BlockBatch.Rows(block.Tokens.Length, options.Model.Context), options.Model.Context);
            rows.AddRange(replayed);
            replayTokens += replayed.Sum(r => r.Length);
        }
        float loss;
        using (NewDisposeScope())
        {
            var (inputs, targets) = BlockBatch.Make(rows, options.Model.Context, trainer.Device);
            loss = trainer.TrainStep(inputs, targets, learningRate);
        }
        schedule.StepTaken();
        var rate = block.Tokens.Length / Math.Max(1e-9, (clock.Elapsed - started).TotalSeconds);
        if (counted)
        {
            tokensTrained[block.Corpus] = tokensTrained.GetValueOrDefault(block.Corpus) + block.Tokens.Length;
            nextSequence[block.Corpus] = block.Sequence + 1;
        }
        var p = progress;
        progress = p with
        {
            Step = trainer.Step, StepsExecuted = schedule.StepsExecuted, Loss = loss, FirstLoss = double.IsNaN(p.FirstLoss) ? loss : p.FirstLoss, LearningRate = learningRate,
            NonFiniteLoss = !float.IsFinite(loss),
            Phase = phase,
            Branch = schedule.InBranch ? new BranchProgress(BranchMode, schedule.BranchSteps, schedule.BranchLength) : null,
            TokensPerSecond = p.TokensPerSecond == 0 ? rate : 0.9 * p.TokensPerSecond + 0.1 * rate,
            TokensTrained = new Dictionary<string, long>(tokensTrained), NextSequence = new Dictionary<string, long>(nextSequence),
            ReplayTokens = replayTokens,
        };
    }

    /// <summary>
    /// Forks an anneal branch off the main trajectory, after checkpointing it (the fork). Paper protocol
    /// (<paramref name="request"/> null): the task has trained its T - A main steps and the branch takes its
    /// last A blocks. On demand: the branch takes the next A blocks, whatever corpus they belong to.
    /// </summary>
    void Fork(ModelTrainer trainer, LearningRateSchedule schedule, AnnealRequest? request)
    {
        fork = Checkpoint(trainer, schedule) ?? SaveTo(Path.Combine(Path.GetTempPath(), $"streaming-fork-{Guid.NewGuid():N}"), trainer, schedule);
        if (request is null) schedule.RequestAnneal((int)schedule.PlannedAnnealSteps!.Value, AnnealMode.PaperProtocol);
        else schedule.RequestAnneal(request.Steps, AnnealMode.OnDemand);
        onDemand = request;
    }

    /// <summary>The branch is done: keep its weights as a release, then put the main trajectory back at the fork.
    /// A paper-protocol branch's blocks stay consumed (they fed only the branch); an on-demand branch's blocks
    /// are trained again by the main trajectory.</summary>
    void Release(ModelTrainer trainer, LearningRateSchedule schedule)
    {
        if (onDemand is null) KeepRelease(trainer, schedule, TaskReleaseName(schedule), tasks[^1], BranchMode, SnapshotKind.TaskRelease);
        else
            KeepRelease(trainer, schedule, $"on-demand-{onDemand.Id}-step-{schedule.StepsExecuted:D8}", branchBlocks[^1].Corpus, BranchMode,
                SnapshotKind.OnDemandRelease);
        schedule.AnnealFinished();
        trainer.Load(fork!);
        if (fork!.Contains("streaming-fork-")) Directory.Delete(fork, recursive: true);
        fork = null;
        if (onDemand is not null)
        {
            annealsDone = onDemand.Id;
            PendingAnneal();
            foreach (var block in branchBlocks) retrain.Enqueue(block);
            branchBlocks.Clear();
            onDemand = null;
        }
        // Back on the main trajectory: report its rate and phase, not the branch's last.
        progress = progress with
        {
            Step = trainer.Step, LearningRate = schedule.LearningRate, Phase = schedule.PhaseName, Branch = null,
            AnnealsDone = annealsDone, PendingAnneal = PendingAnneal(),
        };
    }

    /// <summary>The folder name of a task's release (its paper-protocol branch or its end): the task and the step.</summary>
    string TaskReleaseName(LearningRateSchedule schedule) => $"{tasks[^1]}-step-{schedule.StepsExecuted:D8}";

    /// <summary>Keeps the model as it is now as a release: saved under the releases folder (not saved when there is
    /// none), listed with the run's releases (progress and checkpoints) and sent to the evaluators as <paramref name="kind"/>.</summary>
    void KeepRelease(ModelTrainer trainer, LearningRateSchedule schedule, string name, string task, string mode, string kind)
    {
        var folder = options.ReleaseDirectory ?? (options.CheckpointDirectory is { } c ? Path.Combine(c, "..", "releases") : null);
        var path = folder is null ? null : SaveTo(Path.Combine(folder, name), trainer, schedule);
        releases.Add(new ReleaseReport(path, task, schedule.StepsExecuted, mode));
        progress = progress with { Releases = [.. releases] };
        if (path is not null) Emit(new Snapshot(path, kind, task, schedule.StepsExecuted, [.. tasks.Distinct()]));
    }

    /// <summary>Writes a checkpoint (atomically), reports it, and deletes older ones that nobody may resume from.</summary>
    string? Checkpoint(ModelTrainer trainer, LearningRateSchedule schedule)
    {
        if (options.CheckpointDirectory is null) return null;
        var path = Path.GetFullPath(Path.Combine(options.CheckpointDirectory, $"step-{schedule.StepsExecuted:D8}"));
        if (checkpoints.Count > 0 && checkpoints.Last() == path) return path;   // nothing happened since (e.g. a fork right after a periodic one)
        SaveTo(path, trainer, schedule);
        checkpoints.Enqueue(path);
        // The owner may still point at an older one until it has persisted a newer report: keep the newest two, and
        // when the owner acknowledges what it persisted (AcknowledgeCheckpoint), everything from that one on.
        var acknowledged = this.acknowledged;
        while (checkpoints.Count > 2 && (acknowledged is null ? !options.AcknowledgesCheckpoints : checkpoints.Peek() != acknowledged))
            Directory.Delete(checkpoints.Dequeue(), recursive: true);
        // Reported after the clean-up, so whoever sees this checkpoint sees the folder as it stays.
        progress = progress with
        {
            LastCheckpoint = new CheckpointReport(path, trainer.Step, new Dictionary<string, long>(nextSequence), schedule.Save().ToJson()),
        };
        return path;
    }

    /// <summary>The owner has durably recorded <paramref name="path"/> as the checkpoint to resume from: older ones may go.</summary>
    public void AcknowledgeCheckpoint(string path) => acknowledged = path;

    string SaveTo(string path, ModelTrainer trainer, LearningRateSchedule schedule)
    {
        path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var parts = new CheckpointParts()
            .SetJson(SchedulePart, System.Text.Encoding.UTF8.GetBytes(schedule.Save().ToJson()))
            .Set(LoopPart, new LoopCheckpoint([.. tasks], new(tokensTrained), new(nextSequence), [.. taskSnapshots],
                double.IsNaN(progress.FirstLoss) ? null : progress.FirstLoss, [.. releases], annealsDone, replayTokens,
                double.IsNaN(progress.Loss) ? null : progress.Loss));
        trainer.Save(path, parts, overwrite: true);
        return path;
    }

    LearningRateSchedule Resume(ModelTrainer trainer, string path)
    {
        var parts = trainer.Load(path);
        var schedule = LearningRateSchedule.Restore(options.Schedule,
            ScheduleState.FromJson(System.Text.Encoding.UTF8.GetString(parts.GetJson(SchedulePart).Span)));
        var saved = parts.Get<LoopCheckpoint>(LoopPart);
        tasks.AddRange(saved.Tasks);
        foreach (var (corpus, tokens) in saved.TokensTrained) tokensTrained[corpus] = tokens;
        foreach (var (corpus, next) in saved.NextSequence) nextSequence[corpus] = next;
        taskSnapshots.AddRange(saved.TaskSnapshots);
        releases.AddRange(saved.Releases ?? []);
        annealsDone = saved.AnnealsDone;
        replayTokens = saved.ReplayTokens;
        checkpoints.Enqueue(path);
        // The evaluators may not have received these before the restart; they ignore any they already have.
        foreach (var snapshot in taskSnapshots) options.OnSnapshot?.Invoke(snapshot);
        progress = new TrainingProgress
        {
            Step = trainer.Step, StepsExecuted = schedule.StepsExecuted, FirstLoss = saved.FirstLoss ?? double.NaN, Loss = saved.LastLoss ?? double.NaN, LearningRate = schedule.LearningRate, Phase = schedule.PhaseName,
            TokensTrained = new Dictionary<string, long>(tokensTrained), NextSequence = new Dictionary<string, long>(nextSequence),
            ReplayTokens = replayTokens, TaskSnapshots = [.. taskSnapshots], Releases = [.. releases], AnnealsDone = annealsDone,
            Tasks = [.. tasks],
            LastCheckpoint = new CheckpointReport(path, trainer.Step, new Dictionary<string, long>(nextSequence)),
        };
        return schedule;
    }

    /// <summary>Saves the live main trajectory at the evaluation cadence for the evaluators (they delete it once evaluated).</summary>
    void SnapshotMain(ModelTrainer trainer, LearningRateSchedule schedule)
    {
        var folder = options.SnapshotDirectory ?? (options.CheckpointDirectory is { } c ? Path.Combine(c, "..", "snapshots") : null);
        if (folder is null || options.OnSnapshot is null) return;
        var path = SaveTo(Path.Combine(folder, $"{SnapshotKind.Main}-step-{schedule.StepsExecuted:D8}"), trainer, schedule);
        Emit(new Snapshot(path, SnapshotKind.Main, tasks[^1], schedule.StepsExecuted, [.. tasks.Distinct()]));
    }

    void Emit(Snapshot snapshot)
    {
        if (SnapshotKind.IsRelease(snapshot.Kind))
        {
            taskSnapshots.Add(snapshot);
            progress = progress with { TaskSnapshots = [.. taskSnapshots] };
        }
        options.OnSnapshot?.Invoke(snapshot);
    }

    public void Dispose()
    {
        stopping.Cancel();
        queue.Writer.TryComplete();
        thread.Join();
        stopping.Dispose();
    }
}
