using System.Diagnostics;
using System.Threading.Channels;
using Streaming.Training.Checkpoints;
using Streaming.Training.Engine;
using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Training.Optim;
using Streaming.Training.Schedules;
using static TorchSharp.torch;

namespace Streaming.Training.Loop;

/// <summary>How a run trains: model, optimizer, schedule, device, queue size, and where validation data comes from.</summary>
public sealed record TrainingLoopOptions
{
    public required GptConfig Model { get; init; }
    public AdamWConfig Optimizer { get; init; } = new();
    public ScheduleConfig Schedule { get; init; } = new();
    public TorchOptions Torch { get; init; } = new();
    public int QueueCapacity { get; init; } = 8;
    public long Seed { get; init; } = 1;

    /// <summary>Where checkpoints go (one folder each, the newest two kept). Null: no checkpoints.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Where releases (annealed branches) go, one folder each. Null: next to the checkpoints.</summary>
    public string? ReleaseDirectory { get; init; }

    /// <summary>Steps between checkpoints; one is also written at the end of every task.</summary>
    public int CheckpointEvery { get; init; } = 50;

    /// <summary>A checkpoint to resume from: model, optimizer, schedule and cursors exactly as they were.</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>The validation blocks of a corpus, by name; evaluated after every task. Null: no evaluation.</summary>
    public Func<string, IEnumerable<int[]>>? ValidationBlocks { get; init; }
}

/// <summary>
/// The training thread of one run. Blocks arrive through a bounded channel from any thread (the trainer
/// grain writes, never waits); one dedicated thread owns the model and does all tensor work, because
/// TorchSharp's dispose scopes and libtorch's grad mode are per thread. Progress is published as an
/// immutable snapshot after every step.
/// </summary>
public sealed class TrainingLoop : IDisposable
{
    readonly TrainingLoopOptions options;
    readonly Channel<TrainingBlock> queue;
    readonly CancellationTokenSource stopping = new();
    readonly Thread thread;
    readonly Dictionary<string, long> tokensTrained = [];
    readonly Dictionary<string, long> nextSequence = [];
    readonly List<string> tasks = [];
    readonly List<TaskEvaluation> evaluations = [];
    readonly Queue<string> checkpoints = new();
    string? fork;    // the pre-anneal checkpoint while a paper-protocol branch runs
    readonly Stopwatch clock = new();
    volatile TrainingProgress progress = TrainingProgress.Empty;
    double firstLoss = double.NaN, tokensPerSecond;

    public TrainingLoop(TrainingLoopOptions options)
    {
        this.options = options;
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

    void Run()
    {
        try
        {
            var device = TorchRuntime.Initialize(options.Torch);
            using var trainer = new ModelTrainer(options.Model, options.Optimizer, new TrainerOptions { Seed = options.Seed }, device);
            var schedule = options.ResumeFrom is { } resume ? Resume(trainer, resume) : new LearningRateSchedule(options.Schedule);
            clock.Start();
            var reader = queue.Reader;
            while (reader.WaitToReadAsync(stopping.Token).AsTask().GetAwaiter().GetResult())
                while (reader.TryRead(out var block))
                {
                    if (schedule.AnnealDue) Fork(trainer, schedule);
                    Train(trainer, schedule, block);
                    var taskEnded = block.Sequence == block.TaskSteps - 1;
                    if (taskEnded && options.ValidationBlocks is not null) Evaluate(trainer, block.Corpus);
                    if (schedule.InBranch && schedule.BranchSteps >= schedule.BranchLength) Release(trainer, schedule);
                    // No periodic checkpoints inside a branch: a crash there resumes from the fork and redoes the branch.
                    if (!schedule.InBranch && (taskEnded || schedule.StepsExecuted % options.CheckpointEvery == 0)) Checkpoint(trainer, schedule);
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

    void Train(ModelTrainer trainer, LearningRateSchedule schedule, TrainingBlock block)
    {
        var started = clock.Elapsed;
        if (tasks.Count == 0 || tasks[^1] != block.Corpus)
        {
            // A new corpus is a new task: the schedule decides what that means (infinite: nothing re-warms).
            schedule.TaskStarted(block.TaskSteps);
            tasks.Add(block.Corpus);
        }
        var learningRate = schedule.LearningRate;
        var phase = schedule.PhaseName;
        float loss;
        using (NewDisposeScope())
        {
            var (inputs, targets) = BlockBatch.Make(block.Tokens, options.Model.Context, trainer.Device);
            loss = trainer.TrainStep(inputs, targets, learningRate);
        }
        schedule.StepTaken();
        if (double.IsNaN(firstLoss)) firstLoss = loss;
        var rate = block.Tokens.Length / Math.Max(1e-9, (clock.Elapsed - started).TotalSeconds);
        tokensPerSecond = tokensPerSecond == 0 ? rate : 0.9 * tokensPerSecond + 0.1 * rate;
        tokensTrained[block.Corpus] = tokensTrained.GetValueOrDefault(block.Corpus) + block.Tokens.Length;
        nextSequence[block.Corpus] = block.Sequence + 1;
        progress = new TrainingProgress(trainer.Step, loss, firstLoss, learningRate, phase, tokensPerSecond,
            new Dictionary<string, long>(tokensTrained), new Dictionary<string, long>(nextSequence), trainer.Device.ToString(),
            [.. evaluations], progress.LastCheckpoint, null) { LastRelease = progress.LastRelease };
    }

    const string SchedulePart = "schedule", LoopPart = "loop";

    /// <summary>
    /// Paper protocol: the task has trained its T - A main steps. Checkpoint the main trajectory (the fork),
    /// then anneal over the task's last A blocks; <see cref="Release"/> returns to the fork.
    /// </summary>
    void Fork(ModelTrainer trainer, LearningRateSchedule schedule)
    {
        fork = Checkpoint(trainer, schedule) ?? SaveTo(Path.Combine(Path.GetTempPath(), $"streaming-fork-{Guid.NewGuid():N}"), trainer, schedule);
        schedule.RequestAnneal((int)schedule.PlannedAnnealSteps!.Value, AnnealMode.PaperProtocol);
    }

    /// <summary>The branch is done: keep its weights as a release, then put the main trajectory back at the fork.
    /// The branch's blocks stay consumed (they fed only the branch), so the cursors are not rewound.</summary>
    void Release(ModelTrainer trainer, LearningRateSchedule schedule)
    {
        var releases = options.ReleaseDirectory ?? (options.CheckpointDirectory is { } c ? Path.Combine(c, "..", "releases") : null);
        string? release = null;
        if (releases is not null) release = SaveTo(Path.Combine(releases, $"{tasks[^1]}-step-{schedule.StepsExecuted:D8}"), trainer, schedule);
        schedule.AnnealFinished();
        trainer.Load(fork!);
        if (fork!.Contains("streaming-fork-")) Directory.Delete(fork, recursive: true);
        fork = null;
        progress = progress with { Step = trainer.Step, LastRelease = release ?? progress.LastRelease };
    }

    /// <summary>Writes a checkpoint (atomically), reports it, and keeps only the newest two on disk.</summary>
    string? Checkpoint(ModelTrainer trainer, LearningRateSchedule schedule)
    {
        if (options.CheckpointDirectory is null) return null;
        var path = Path.GetFullPath(Path.Combine(options.CheckpointDirectory, $"step-{schedule.StepsExecuted:D8}"));
        if (checkpoints.Count > 0 && checkpoints.Last() == path) return path;   // nothing happened since (e.g. a fork right after a periodic one)
        SaveTo(path, trainer, schedule);
        progress = progress with { LastCheckpoint = new CheckpointReport(path, trainer.Step, new Dictionary<string, long>(nextSequence)) };
        checkpoints.Enqueue(path);
        // The grain may still point at the previous one until it has persisted this report, so keep two.
        while (checkpoints.Count > 2) Directory.Delete(checkpoints.Dequeue(), recursive: true);
        return path;
    }

    string SaveTo(string path, ModelTrainer trainer, LearningRateSchedule schedule)
    {
        path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var parts = new CheckpointParts()
            .SetJson(SchedulePart, System.Text.Encoding.UTF8.GetBytes(schedule.Save().ToJson()))
            .Set(LoopPart, new LoopCheckpoint([.. tasks], new(tokensTrained), new(nextSequence), [.. evaluations], firstLoss));
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
        evaluations.AddRange(saved.Evaluations);
        firstLoss = saved.FirstLoss;
        checkpoints.Enqueue(path);
        progress = new TrainingProgress(trainer.Step, double.NaN, firstLoss, schedule.LearningRate, schedule.PhaseName, 0,
            new Dictionary<string, long>(tokensTrained), new Dictionary<string, long>(nextSequence), trainer.Device.ToString(),
            [.. evaluations], new CheckpointReport(path, trainer.Step, new Dictionary<string, long>(nextSequence)), null);
        return schedule;
    }

    /// <summary>Token-weighted mean validation loss on every corpus seen so far: one row of the loss matrix.</summary>
    void Evaluate(ModelTrainer trainer, string finishedTask)
    {
        var losses = new Dictionary<string, double>();
        foreach (var corpus in tasks)
        {
            double sum = 0, weight = 0;
            foreach (var tokens in options.ValidationBlocks!(corpus))
            {
                if (tokens.Length < 2) continue;
                using var scope = NewDisposeScope();
                var (inputs, targets) = BlockBatch.Make(tokens, options.Model.Context, trainer.Device);
                sum += trainer.Evaluate(inputs, targets) * (tokens.Length - 1);
                weight += tokens.Length - 1;
            }
            if (weight > 0) losses[corpus] = sum / weight;
        }
        evaluations.Add(new TaskEvaluation(finishedTask, trainer.Step, losses));
        progress = progress with { Evaluations = [.. evaluations] };
    }

    public void Dispose()
    {
        stopping.Cancel();
        queue.Writer.TryComplete();
        thread.Join();
        stopping.Dispose();
    }
}
