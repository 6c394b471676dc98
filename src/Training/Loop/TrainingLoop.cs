using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Training.Checkpoints;
using Streaming.Training.Engine;
using Streaming.Training.Evaluation;
using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Training.Optim;
using Streaming.Schedules;
using Streaming.Training.Threading;
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

    /// <summary>Where checkpoints go, and which of them are kept. Null: no checkpoints.</summary>
    public CheckpointStore? Checkpoints { get; init; }

    /// <summary>Where releases (annealed branches, and task ends without a branch) and the main cadence's snapshots for the
    /// evaluators go, one folder each. Null: none are saved (releases are still listed).</summary>
    public RunFolders? Folders { get; init; }

    /// <summary>Steps skipped in a row (non-finite loss or gradient) after which the run counts as diverged: the loop goes
    /// back to its last checkpoint, or, with no rollback left (or no checkpoint), stops.</summary>
    public int MaxSkippedStepsInARow { get; init; } = 16;

    /// <summary>Rollbacks to the last checkpoint a run may take in all; the next divergence stops it.</summary>
    public int MaxRollbacks { get; init; } = 3;

    /// <summary>When a training loss is reported as a spike.</summary>
    public LossSpikeRule LossSpikes { get; init; } = new();

    /// <summary>The run's name, for log lines.</summary>
    public string Run { get; init; } = "";

    /// <summary>Steps between checkpoints; one is also written at the end of every task and at every anneal fork.</summary>
    public int CheckpointEvery { get; init; } = 50;

    /// <summary>A checkpoint to resume from: model, optimizer, schedule and cursors exactly as they were.</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Pretrained weights (Hugging Face GPT-2 layout) for a run that starts without a checkpoint.</summary>
    public string? InitFrom { get; init; }

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

    /// <summary>Decay per step of the moving average of the weights the run keeps (null: none). Every checkpoint saves it.</summary>
    public double? AverageDecay { get; init; }

    /// <summary>What each task end releases: the anneal release (today's), the weight average, or both.</summary>
    public TaskRelease TaskRelease { get; init; } = TaskRelease.Anneal;

    /// <summary>Where the training thread logs an error that stops it, whole (status and streaming_run_failed show that it did).</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;
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
    const string SchedulePart = "schedule";

    readonly TrainingLoopOptions options;
    readonly Channel<TrainingBlock> queue;
    readonly CancellationTokenSource stopping = new();
    readonly Thread thread;
    readonly ReplaySampler? replay;
    readonly RoomForSaves room;
    readonly Stopwatch clock = new();
    int skippedInARow;
    long readSinceCheckpoint;                        // steps whose block was read since the last checkpoint: what a rollback undoes
    readonly object requestLock = new();
    LoopState state = LoopState.Empty;             // the training thread's; published with every progress
    AnnealRequest? pendingAnneal;
    ForkPoint? fork;                                  // where the open branch returns to
    AnnealRequest? onDemand;                       // the open branch, when it is an on-demand one
    readonly List<TrainingBlock> branchBlocks = [];  // an on-demand branch's blocks: the main trajectory trains them after it
    readonly Queue<TrainingBlock> retrain = new();
    // Asked-for releases of the weight average, served by the training thread between steps.
    readonly Channel<TaskCompletionSource<ReleaseReport>> averageRequests = Channel.CreateUnbounded<TaskCompletionSource<ReleaseReport>>();
    volatile TrainingProgress progress = TrainingProgress.Empty;

    /// <summary>The main trajectory's state an anneal branch returns to: a checkpoint, or a temporary save when the loop keeps none.</summary>
    sealed record ForkPoint(string Path, bool Temporary);

    public TrainingLoop(TrainingLoopOptions options)
    {
        this.options = options;
        pendingAnneal = options.PendingAnneal;
        if (options.ReplayFraction is < 0 or >= 1 || double.IsNaN(options.ReplayFraction))
            throw new ArgumentException($"replay fraction must be in [0, 1), not {options.ReplayFraction}");
        if (options.TaskRelease != TaskRelease.Anneal && options.AverageDecay is null)
            throw new ArgumentException($"releasing the {options.TaskRelease.ToWire()} at task ends needs a weight average (an average decay)");
        if (options.ReplayFraction > 0 && options.Data is { } data) replay = new ReplaySampler(options.ReplayFraction, options.Seed, data);
        queue = Channel.CreateBounded<TrainingBlock>(new BoundedChannelOptions(options.QueueCapacity) { SingleReader = true });
        room = new RoomForSaves(paused => progress = progress with { Paused = paused }, options.Logger, stopping.Token);
        thread = WorkerThread.Start("trainer", Run, options.Logger, e => progress = progress with { Error = WorkerThread.OneLine(e) });
    }

    public int QueueCapacity => options.QueueCapacity;

    /// <summary>Blocks waiting to be trained.</summary>
    public int Queued => queue.Reader.Count;

    public TrainingProgress Progress => progress;

    /// <summary>Queues a block; false when the queue is full (the caller asked for more than it had room for).</summary>
    public bool TryEnqueue(TrainingBlock block) => queue.Writer.TryWrite(block);

    /// <summary>Stops the loop with <paramref name="reason"/> (one line) once the blocks queued before it are trained: what the
    /// run cannot go on without (a damaged stored corpus) is reported as the loop's error, as one of its own would be.</summary>
    public void Fail(string reason) => queue.Writer.TryComplete(new InvalidDataException(reason));

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

    /// <summary>Releases the weight average now, without a training step (between two steps; after an open anneal branch,
    /// whose steps are not the main trajectory's), and checkpoints the run so the release is kept across restarts.</summary>
    public Task<ReleaseReport> ReleaseAverageAsync()
    {
        if (options.AverageDecay is null) throw new InvalidOperationException("the run keeps no weight average");
        var asked = new TaskCompletionSource<ReleaseReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!averageRequests.Writer.TryWrite(asked))
            throw new InvalidOperationException($"the run's training has stopped{(progress.Error is { } e ? $": {e}" : "")}");
        return asked.Task;
    }

    void Run()
    {
        try
        {
            Train();
        }
        finally
        {
            averageRequests.Writer.TryComplete();
            while (averageRequests.Reader.TryRead(out var asked))
                asked.TrySetException(new InvalidOperationException("the run's training stopped before the average was released"));
        }
    }

    void Train()
    {
        try
        {
            var device = TorchRuntime.Initialize(options.Torch);
            using var trainer = new ModelTrainer(options.Model, options.Optimizer, new TrainerOptions
            {
                Seed = options.Seed, MicroBatchRows = options.MicroBatchRows, Precision = options.Precision, AverageDecay = options.AverageDecay,
            }, device);
            if (options.ResumeFrom is null && options.InitFrom is { } init) trainer.LoadPretrained(init);
            var schedule = options.ResumeFrom is { } resume ? Resume(trainer, resume) : new LearningRateSchedule(options.Schedule);
            progress = progress with { Device = trainer.Device.ToString(), PendingAnneal = PendingAnneal(), AverageDecay = options.AverageDecay };
            clock.Start();
            var reader = queue.Reader;
            // Stopping ends the loop after the step in hand, not after the queued blocks: they are trained again from the
            // last checkpoint after a restart, and a silo's stop must not wait for a whole window of steps.
            while (!stopping.IsCancellationRequested)
            {
                if (!schedule.InBranch) ServeAverageRequests(trainer, schedule);
                if (!retrain.TryDequeue(out var block) && !reader.TryRead(out block))
                {
                    var blocks = reader.WaitToReadAsync(stopping.Token).AsTask();
                    // A release of the average wakes the thread too, except in a branch: it waits for the branch's end.
                    if (!schedule.InBranch) Task.WaitAny(blocks, averageRequests.Reader.WaitToReadAsync(stopping.Token).AsTask());
                    if ((schedule.InBranch || blocks.IsCompleted) && !blocks.GetAwaiter().GetResult()) break;
                    continue;
                }
                Process(trainer, schedule, block);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>One block is one optimizer step: on the main trajectory, or in the open anneal branch.</summary>
    void Process(ModelTrainer trainer, LearningRateSchedule schedule, TrainingBlock block)
    {
        if (!schedule.InBranch)
        {
            if (state.Tasks.Count == 0 || state.Tasks[^1] != block.Corpus)
            {
                // A new corpus is a new task: the schedule decides what that means (infinite: nothing re-warms).
                schedule.TaskStarted(block.TaskLength);
                Publish(state with { Tasks = state.Tasks.Add(block.Corpus), LossSpikes = state.LossSpikes.TaskStarted() });
            }
            if (schedule.AnnealDue) Fork(trainer, schedule, null);
            else if (PendingAnneal() is { } request && schedule.Config.ParsedKind.HasBranches() && !schedule.TaskComplete)
                Fork(trainer, schedule, request);
        }
        // An on-demand branch only borrows its blocks: they are trained again on the main trajectory after it.
        var borrowed = onDemand is not null;
        if (borrowed) branchBlocks.Add(block);
        var rolledBack = Train(trainer, schedule, block, borrowed);
        var taskEnded = !borrowed && block.Sequence == block.TaskLength - 1;
        // A paper-protocol branch ends on its task's last block: its release is the task's row of the loss matrix.
        var taskReleased = taskEnded && schedule.InBranch && onDemand is null;
        if (schedule.InBranch && schedule.BranchSteps >= schedule.BranchLength) Release(trainer, schedule);
        // A task without that branch ends on the main trajectory: the model at its end (or its average) is its release instead.
        var averageIsRow = options.TaskRelease == TaskRelease.Average && !taskReleased;
        if (taskEnded && !taskReleased)
            KeepRelease(trainer, schedule, TaskReleaseName(schedule), state.Tasks[^1], averageIsRow ? ReleaseMode.Average : ReleaseMode.TaskEnd,
                SnapshotKind.TaskEnd, averaged: averageIsRow);
        else if (!schedule.InBranch && options.EvaluateEvery > 0 && schedule.MainSteps % options.EvaluateEvery == 0 && onDemand is null)
            SnapshotMain(trainer, schedule);
        // Released after the branch has returned to the fork: the average of the main trajectory, not of the branch.
        if (taskEnded && options.TaskRelease != TaskRelease.Anneal && !averageIsRow)
            KeepRelease(trainer, schedule, AverageReleaseName(schedule), state.Tasks[^1], ReleaseMode.Average, SnapshotKind.Average, averaged: true);
        // No periodic checkpoints inside a branch: a crash there resumes from the fork and redoes the branch. After a
        // rollback, one at once: a resume starts past the offending blocks, with the restored weights.
        if (!schedule.InBranch && (taskEnded || rolledBack || schedule.StepsExecuted % options.CheckpointEvery == 0)) Checkpoint(trainer, schedule);
    }

    ReleaseMode BranchMode => onDemand is null ? ReleaseMode.PaperProtocol : ReleaseMode.OnDemand;

    AnnealRequest? PendingAnneal()
    {
        lock (requestLock)
        {
            if (pendingAnneal is { } r && r.Id <= state.AnnealsDone) pendingAnneal = null;   // released before a restart
            return pendingAnneal;
        }
    }

    /// <summary>One optimizer step on the block (and replayed rows). A block an on-demand branch only borrows is read
    /// again later and not counted now; one a paper-protocol branch trains is read for good but counted apart.
    /// True when the step ended in a rollback to the last checkpoint.</summary>
    bool Train(ModelTrainer trainer, LearningRateSchedule schedule, TrainingBlock block, bool borrowed)
    {
        var started = clock.Elapsed;
        var learningRate = schedule.LearningRate;
        var phase = schedule.Phase;
        var annealOnly = schedule.InBranch;
        var rows = new List<int[]> { block.Tokens };
        var replayed = replay?.Draw(schedule.StepsExecuted, [.. state.Tasks.Distinct().Where(t => t != block.Corpus)],
            BlockBatch.Rows(block.Tokens.Length, options.Model.Context), options.Model.Context) ?? [];
        rows.AddRange(replayed);
        float loss;
        bool skipped;
        using (NewDisposeScope())
        {
            Tensor inputs, targets;
            try
            {
                (inputs, targets) = BlockBatch.Make(rows, options.Model, trainer.Device);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"the batch of {block.Corpus} block {block.Sequence}: {e.Message}", e);
            }
            (loss, skipped) = trainer.TrainStepUnlessNonFinite(inputs, targets, learningRate);
        }
        // A skipped step leaves the weights as they were; many in a row mean the run has diverged and skipping will not mend it:
        // the weights go back to the last checkpoint while the data goes on, or, with no rollback left, the loop stops.
        skippedInARow = skipped ? skippedInARow + 1 : 0;
        var diverged = skippedInARow >= options.MaxSkippedStepsInARow;
        if (diverged && (state.Rollbacks >= options.MaxRollbacks || progress.LastCheckpoint is null))
            throw new TrainingDivergedException($"{skippedInARow} steps in a row had a NaN or infinite loss or gradient and were skipped "
                + $"(the last on {block.Corpus} block {block.Sequence}){(state.Rollbacks > 0 ? $" after {state.Rollbacks} rollback{(state.Rollbacks == 1 ? "" : "s")} to the last checkpoint" : "")}: "
                + $"training stopped; the last checkpoint ({progress.LastCheckpoint?.Path ?? "none yet"}) is intact: lower the learning rate and start a new run from there");
        schedule.StepTaken();
        if (!borrowed) readSinceCheckpoint++;
        var rate = block.Tokens.Length / Math.Max(1e-9, (clock.Elapsed - started).TotalSeconds);
        LossSpike? spike = null;
        var next = state with
        {
            ReplayTokens = state.ReplayTokens + replayed.Sum(r => r.Length),
            SkippedSteps = state.SkippedSteps + (skipped ? 1 : 0),
            // Only finite losses: the state is saved as JSON, which has no NaN or infinity.
            FirstLoss = state.FirstLoss ?? (float.IsFinite(loss) ? loss : null),
            LastLoss = float.IsFinite(loss) ? loss : null,
            // The main trajectory's losses only: a branch's annealed rate lowers its loss, which is no reference for the main one.
            LossSpikes = annealOnly ? state.LossSpikes : state.LossSpikes.Observe(options.LossSpikes, schedule.StepsExecuted, loss, out spike),
        };
        if (!borrowed) next = next.Read(block, annealOnly, skipped);
        if (spike is not null)
            options.Logger.LogWarning("run {Run}: loss spike at step {Step} on {Corpus} block {Sequence}: {Loss:F4} above the reference {Reference:F4}",
                options.Run, spike.Step, block.Corpus, block.Sequence, spike.Loss, spike.Reference);
        var p = progress;
        Publish(next, p with
        {
            Step = trainer.Step, MainSteps = schedule.MainSteps, StepsExecuted = schedule.StepsExecuted, LearningRate = learningRate,
            NonFiniteLoss = !float.IsFinite(loss),
            Phase = phase,
            Branch = schedule.InBranch ? new BranchProgress(BranchMode, schedule.BranchSteps, schedule.BranchLength) : null,
            TokensPerSecond = p.TokensPerSecond == 0 ? rate : 0.9 * p.TokensPerSecond + 0.1 * rate,
        });
        if (!diverged) return false;
        RollBack(trainer, block);
        return true;
    }

    /// <summary>
    /// Puts the weights, the optimizer's moments and step count and the weight average back as the last checkpoint saved
    /// them, and passes over every block read since (the offending ones among them): the cursors stay where they are, those
    /// steps count as skipped. The schedule keeps its position, as it does for every skipped step, so the task's end and its
    /// anneal branch fall on the blocks planned. Deterministic: the same blocks from the same checkpoint roll back the same.
    /// </summary>
    void RollBack(ModelTrainer trainer, TrainingBlock block)
    {
        var checkpoint = progress.LastCheckpoint!;
        trainer.Load(checkpoint.Path);
        Publish(state.RolledBackTo(checkpoint.State, readSinceCheckpoint));
        options.Logger.LogWarning("run {Run}: {Skipped} steps in a row had a NaN or infinite loss or gradient (the last on {Corpus} block {Sequence}): "
            + "rolled back to {Checkpoint} and passed over the {Passed} blocks read since (rollback {Rollback} of at most {MaxRollbacks})",
            options.Run, skippedInARow, block.Corpus, block.Sequence, checkpoint.Path, readSinceCheckpoint, state.Rollbacks, options.MaxRollbacks);
        progress = progress with { Step = trainer.Step };
        skippedInARow = 0;
    }

    /// <summary>Replaces the loop's state and publishes it (with <paramref name="live"/>, or the live values as they are).</summary>
    void Publish(LoopState next, TrainingProgress? live = null)
    {
        state = next;
        progress = (live ?? progress) with { State = next };
    }

    /// <summary>
    /// Forks an anneal branch off the main trajectory, after checkpointing it (the fork). Paper protocol
    /// (<paramref name="request"/> null): the task has trained its T - A main steps and the branch takes its
    /// last A blocks. On demand: the branch takes the next A blocks, whatever corpus they belong to.
    /// </summary>
    void Fork(ModelTrainer trainer, LearningRateSchedule schedule, AnnealRequest? request)
    {
        fork = Checkpoint(trainer, schedule) is { } checkpoint ? new ForkPoint(checkpoint, Temporary: false)
            : new ForkPoint(SaveTo(Path.Combine(Path.GetTempPath(), $"streaming-fork-{Guid.NewGuid():N}"), trainer, schedule), Temporary: true);
        if (request is null) schedule.RequestAnneal((int)schedule.PlannedAnnealSteps!.Value, AnnealMode.PaperProtocol);
        else schedule.RequestAnneal(request.Steps, AnnealMode.OnDemand);
        onDemand = request;
    }

    /// <summary>The branch is done: keep its weights as a release, then put the main trajectory back at the fork.
    /// A paper-protocol branch's blocks stay consumed (they fed only the branch); an on-demand branch's blocks
    /// are trained again by the main trajectory.</summary>
    void Release(ModelTrainer trainer, LearningRateSchedule schedule)
    {
        if (onDemand is null) KeepRelease(trainer, schedule, TaskReleaseName(schedule), state.Tasks[^1], BranchMode, SnapshotKind.TaskRelease);
        else
            KeepRelease(trainer, schedule, $"on-demand-{onDemand.Id}-step-{schedule.StepsExecuted:D8}", branchBlocks[^1].Corpus, BranchMode,
                SnapshotKind.OnDemandRelease, predicted: onDemand.Prediction);
        schedule.AnnealFinished();
        trainer.Load(fork!.Path);
        if (fork.Temporary) Directory.Delete(fork.Path, recursive: true);
        fork = null;
        if (onDemand is not null)
        {
            Publish(state with { AnnealsDone = onDemand.Id });
            PendingAnneal();
            foreach (var block in branchBlocks) retrain.Enqueue(block);
            branchBlocks.Clear();
            onDemand = null;
        }
        // Back on the main trajectory: report its rate and phase, not the branch's last.
        progress = progress with
        {
            Step = trainer.Step, MainSteps = schedule.MainSteps, LearningRate = schedule.LearningRate, Phase = schedule.Phase, Branch = null,
            PendingAnneal = PendingAnneal(),
        };
    }

    /// <summary>The folder name of a task's release (its paper-protocol branch or its end): the task and the step.</summary>
    string TaskReleaseName(LearningRateSchedule schedule) => $"{state.Tasks[^1]}-step-{schedule.StepsExecuted:D8}";

    /// <summary>The folder name of a weight average released beside a task's row or on demand: the task and the step.</summary>
    string AverageReleaseName(LearningRateSchedule schedule) => $"{state.Tasks[^1]}-average-step-{schedule.StepsExecuted:D8}";

    /// <summary>Serves the releases of the average asked for: once per step (asked again without a step between, the same
    /// release), and with nothing trained yet, a one-line error.</summary>
    void ServeAverageRequests(ModelTrainer trainer, LearningRateSchedule schedule)
    {
        while (averageRequests.Reader.TryRead(out var asked))
        {
            if (state.Tasks.Count == 0)
            {
                asked.TrySetException(new InvalidOperationException("the run has trained nothing yet: there is no average to release"));
                continue;
            }
            var name = AverageReleaseName(schedule);
            if (!state.Releases.Any(r => r.Mode == ReleaseMode.Average && r.Step == schedule.StepsExecuted && r.Path == ReleasePath(name)))
            {
                KeepRelease(trainer, schedule, name, state.Tasks[^1], ReleaseMode.Average, SnapshotKind.Average, averaged: true);
                Checkpoint(trainer, schedule, replace: true);
            }
            asked.TrySetResult(state.Releases.Last(r => r.Mode == ReleaseMode.Average));
        }
    }

    string? ReleasePath(string name) => options.Folders?.Releases is { } folder ? Path.GetFullPath(Path.Combine(folder, name)) : null;

    /// <summary>Keeps the model as it is now (<paramref name="averaged"/>: its weight average) as a release: saved under the
    /// releases folder (not saved when there is none), listed with the run's releases (progress and checkpoints) and sent
    /// to the evaluators as <paramref name="kind"/>; a planned anneal's release keeps the loss <paramref name="predicted"/> for it.</summary>
    void KeepRelease(ModelTrainer trainer, LearningRateSchedule schedule, string name, string task, ReleaseMode mode, SnapshotKind kind,
        bool averaged = false, AnnealPrediction? predicted = null)
    {
        var path = ReleasePath(name) is { } release ? SaveTo(release, trainer, schedule, averaged) : null;
        Publish(state with { Releases = state.Releases.Add(new ReleaseReport(path, task, schedule.StepsExecuted, mode, predicted)) });
        if (path is not null) Emit(new Snapshot(path, kind, task, schedule.StepsExecuted, [.. state.Tasks.Distinct()]));
    }

    /// <summary>Writes a checkpoint (atomically; the store deletes the older ones nobody may resume from) and reports it.</summary>
    string? Checkpoint(ModelTrainer trainer, LearningRateSchedule schedule, bool replace = false)
    {
        if (options.Checkpoints is not { } store) return null;
        var path = store.Save(schedule.StepsExecuted, folder => SaveTo(folder, trainer, schedule), replace);
        readSinceCheckpoint = 0;
        // Reported after the clean-up, so whoever sees this checkpoint sees the folder as it stays.
        progress = progress with { LastCheckpoint = new CheckpointReport(path, trainer.Step, state) };
        return path;
    }

    /// <summary>Saves the model and the loop's state to <paramref name="path"/>; on a full volume, waits for room (<see cref="RoomForSaves"/>).</summary>
    string SaveTo(string path, ModelTrainer trainer, LearningRateSchedule schedule, bool averaged = false)
    {
        path = Path.GetFullPath(path);
        var parts = new CheckpointParts()
            .SetJson(SchedulePart, System.Text.Encoding.UTF8.GetBytes(schedule.Save().ToJson()))
            .Set(LoopState.PartName, state);
        return room.Save(path, trainer.SaveBytes, () =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (averaged) trainer.SaveAverage(path, parts, overwrite: true);
            else trainer.Save(path, parts, overwrite: true);
            return path;
        });
    }

    LearningRateSchedule Resume(ModelTrainer trainer, string path)
    {
        var parts = trainer.Load(path);
        var schedule = LearningRateSchedule.Restore(options.Schedule,
            ScheduleState.FromJson(System.Text.Encoding.UTF8.GetString(parts.GetJson(SchedulePart).Span)));
        var saved = parts.Get<LoopState>(LoopState.PartName);
        // The evaluators may not have received these before the restart; they ignore any they already have.
        foreach (var snapshot in saved.TaskSnapshots) options.OnSnapshot?.Invoke(snapshot);
        Publish(saved, At(path, trainer.Step, schedule, saved));
        return schedule;
    }

    /// <summary>What a loop reports right after resuming from <paramref name="checkpoint"/>, read without a model: the
    /// progress of a run with nothing left to train, whose weights need not be in memory.</summary>
    public static TrainingProgress ProgressAt(string checkpoint, ScheduleConfig schedule)
    {
        var step = Checkpoints.Checkpoint.ReadManifest(checkpoint).Step;
        var restored = LearningRateSchedule.Restore(schedule, Checkpoints.Checkpoint.ReadPart<ScheduleState>(checkpoint, SchedulePart));
        var saved = LoopState.ReadFrom(checkpoint);
        return At(checkpoint, step, restored, saved) with { State = saved };
    }

    static TrainingProgress At(string checkpoint, long step, LearningRateSchedule schedule, LoopState saved) => new()
    {
        Step = step, MainSteps = schedule.MainSteps, StepsExecuted = schedule.StepsExecuted, LearningRate = schedule.LearningRate, Phase = schedule.Phase,
        LastCheckpoint = new CheckpointReport(checkpoint, step, saved),
    };

    /// <summary>Saves the live main trajectory at the evaluation cadence for the evaluators (they delete it once evaluated).</summary>
    void SnapshotMain(ModelTrainer trainer, LearningRateSchedule schedule)
    {
        var folder = options.Folders?.Snapshots;
        if (folder is null || options.OnSnapshot is null) return;
        var path = SaveTo(Path.Combine(folder, $"{SnapshotKind.Main.ToWire()}-step-{schedule.StepsExecuted:D8}"), trainer, schedule);
        Emit(new Snapshot(path, SnapshotKind.Main, state.Tasks[^1], schedule.StepsExecuted, [.. state.Tasks.Distinct()], schedule.MainSteps));
    }

    void Emit(Snapshot snapshot)
    {
        if (snapshot.Kind.IsRelease()) Publish(state with { TaskSnapshots = state.TaskSnapshots.Add(snapshot) });
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

/// <summary>Training stopped because step after step had a non-finite loss or gradient.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
