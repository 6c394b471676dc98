using Streaming.Training.Checkpoints;
using Streaming.Training.Data;
using Streaming.Training.Engine;
using Streaming.Training.Evaluation;
using Streaming.Training.Loop;
using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Training.Optim;
using Streaming.Schedules;
using static TorchSharp.torch;

namespace Streaming.Training.Tests.Loop;

/// <summary>The training loop with a weight average: released at task ends or on request, kept exactly across a resume,
/// and untouched by anneal branches.</summary>
[Collection("torch")]
public sealed class WeightAverageLoopTests : IDisposable
{
    const int Context = 32, BlockTokens = 2 * Context + 1, BlocksPerTask = 8;   // TrainingLoopTests' sizes
    const double Decay = 0.9;
    static readonly GptConfig Model = new(2, 32, 2, Context, 256);
    static readonly ScheduleConfig Infinite = new() { MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 2 };
    readonly string folder = Directory.CreateTempSubdirectory("streaming-average-loop-").FullName;
    readonly Dictionary<string, List<int[]>> blocks;

    public WeightAverageLoopTests()
    {
        var text = File.ReadAllBytes(SampleCorpora.File("english"));
        blocks = new() { ["a"] = Blocks(text, 0), ["b"] = Blocks(text, BlocksPerTask * BlockTokens) };
    }

    [Fact]
    public void ReleaseAverageMakesEachTaskEndsAverageItsRowWithoutABranch()
    {
        var snapshots = new System.Collections.Concurrent.ConcurrentQueue<Snapshot>();
        using var loop = new TrainingLoop(Options(folder) with { TaskRelease = TaskRelease.Average, OnSnapshot = snapshots.Enqueue });
        EnqueueAll(loop);
        var progress = WaitUntil(loop, p => p.State.Releases.Count == 2 && p.LastCheckpoint?.Step == 2 * BlocksPerTask);

        Assert.True(progress.Error is null, progress.Error);
        Assert.Equal(2 * BlocksPerTask, progress.Step);   // no branch: every block trained the main trajectory
        Assert.Equal([("a", 8L, ReleaseMode.Average), ("b", 16L, ReleaseMode.Average)], progress.State.Releases.Select(r => (r.Task, r.Step, r.Mode)));
        // Rows of the loss matrix, evaluated like any release.
        Assert.Equal([SnapshotKind.TaskEnd, SnapshotKind.TaskEnd], snapshots.Select(s => s.Kind));
        // The release's weights are the average the task-end checkpoint (same step) holds, not the live weights.
        var (average, live) = AverageAndWeights(progress.LastCheckpoint!.Path);
        var released = Weights(progress.LastRelease!);
        Assert.Equal(average, released);
        Assert.NotEqual(live, released);
    }

    [Fact]
    public void ReleaseBothKeepsTheAnnealRowAndAddsTheMainTrajectorysAverage()
    {
        var snapshots = new System.Collections.Concurrent.ConcurrentQueue<Snapshot>();
        using var loop = new TrainingLoop(Options(folder) with
        {
            Schedule = Infinite with { AnnealFraction = 0.25 }, TaskRelease = TaskRelease.Both, OnSnapshot = snapshots.Enqueue,
        });
        EnqueueAll(loop);
        var progress = WaitUntil(loop, p => p.State.Releases.Count == 4 && p.LastCheckpoint?.State.NextSequence.GetValueOrDefault("b") == BlocksPerTask);

        Assert.True(progress.Error is null, progress.Error);
        Assert.Equal([ReleaseMode.PaperProtocol, ReleaseMode.Average, ReleaseMode.PaperProtocol, ReleaseMode.Average],
            progress.State.Releases.Select(r => r.Mode));
        Assert.Equal([SnapshotKind.TaskRelease, SnapshotKind.Average, SnapshotKind.TaskRelease, SnapshotKind.Average], snapshots.Select(s => s.Kind));
        Assert.EndsWith("b-average-step-00000016", progress.LastRelease);
        // Released after the branch went back to its fork: the main trajectory's average, as the task-end checkpoint holds it.
        Assert.Equal(AverageAndWeights(progress.LastCheckpoint!.Path).Average, Weights(progress.LastRelease!));
    }

    [Fact]
    public void AResumedRunHasTheSameAverageBitForBitAsOneThatWasNeverStopped()
    {
        string Train(string root, bool stop)
        {
            var options = Options(root);
            if (!stop)
            {
                using var straight = new TrainingLoop(options);
                EnqueueAll(straight);
                return WaitUntil(straight, p => p.LastCheckpoint?.Step == 2 * BlocksPerTask).LastCheckpoint!.Path;
            }
            string checkpoint;
            using (var first = new TrainingLoop(options))
            {
                for (var i = 0; i < 6; i++) Assert.True(first.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
                checkpoint = WaitUntil(first, p => p.Step == 6 && p.LastCheckpoint?.Step == 4).LastCheckpoint!.Path;
            }
            // Killed after step 6: the resumed loop goes on from step 4 and trains blocks 4 and 5 again.
            using var resumed = new TrainingLoop(options with { ResumeFrom = checkpoint });
            EnqueueAll(resumed, from: 4);
            return WaitUntil(resumed, p => p.LastCheckpoint?.Step == 2 * BlocksPerTask).LastCheckpoint!.Path;
        }

        var straight = Train(Path.Combine(folder, "straight"), stop: false);
        var stopped = Train(Path.Combine(folder, "stopped"), stop: true);
        var hashes = new[] { straight, stopped }.Select(c => Checkpoint.Verify(c).Files[Checkpoint.AverageFile].Sha256).ToList();
        Assert.Equal(hashes[0], hashes[1]);
        Assert.Equal(AverageAndWeights(straight).Average, AverageAndWeights(stopped).Average);
    }

    [Fact]
    public void AnOnDemandAnnealBranchLeavesTheMainTrajectorysAverageAsIfItHadNotBeenTaken()
    {
        string Train(string root, bool anneal)
        {
            using var loop = new TrainingLoop(Options(root));
            for (var i = 0; i < 3; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
            WaitUntil(loop, p => p.Step == 3);
            if (anneal) loop.RequestAnneal(new AnnealRequest(1, 2));
            for (var i = 3; i < BlocksPerTask; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
            var done = WaitUntil(loop, p => p.LastCheckpoint?.State.NextSequence.GetValueOrDefault("a") == BlocksPerTask);
            Assert.True(done.Error is null, done.Error);
            Assert.Equal(anneal ? 2 : 1, done.State.Releases.Count);
            return done.LastCheckpoint!.Path;
        }

        var plain = Train(Path.Combine(folder, "plain"), anneal: false);
        var annealed = Train(Path.Combine(folder, "annealed"), anneal: true);
        Assert.Equal(Checkpoint.Verify(plain).Files[Checkpoint.AverageFile].Sha256, Checkpoint.Verify(annealed).Files[Checkpoint.AverageFile].Sha256);
    }

    [Fact]
    public async Task AnAverageReleasedOnRequestIsTheAverageNowIsEvaluatedAndSurvivesARestart()
    {
        var snapshots = new System.Collections.Concurrent.ConcurrentQueue<Snapshot>();
        var options = Options(folder) with { OnSnapshot = snapshots.Enqueue };
        ReleaseReport release;
        string checkpoint;
        using (var loop = new TrainingLoop(options))
        {
            var nothingYet = await Assert.ThrowsAsync<InvalidOperationException>(loop.ReleaseAverageAsync);
            Assert.Equal("the run has trained nothing yet: there is no average to release", nothingYet.Message);
            for (var i = 0; i < 3; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
            WaitUntil(loop, p => p.Step == 3);
            // The loop is idle, waiting for blocks: the request wakes it, and no step is taken.
            release = await loop.ReleaseAverageAsync().WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(release, await loop.ReleaseAverageAsync().WaitAsync(TimeSpan.FromMinutes(1)));   // the same step: the same release
            var progress = loop.Progress;
            Assert.Equal(3, progress.Step);
            Assert.Equal(("a", 3L, ReleaseMode.Average), (release.Task, release.Step, release.Mode));
            Assert.EndsWith("a-average-step-00000003", release.Path);
            Assert.Equal(release.Path, progress.LastRelease);
            checkpoint = progress.LastCheckpoint!.Path;
        }
        Assert.Equal(release.Path, Assert.Single(snapshots, s => s.Kind == SnapshotKind.Average).Path);
        // Checkpointed with it: its weights are the average the checkpoint holds, and a restart still lists it.
        Assert.Equal(AverageAndWeights(checkpoint).Average, Weights(release.Path!));
        Assert.Equal(release, Assert.Single(LoopState.ReadFrom(checkpoint).Releases));

        using var worker = new EvaluationWorker(new(), new TorchOptions { Device = "cpu" }, new InMemoryCorpora(blocks));
        worker.Enqueue(snapshots.Single(s => s.Kind == SnapshotKind.Average));
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (worker.Pending > 0 && DateTime.UtcNow < deadline) Thread.Sleep(50);
        var evaluated = Assert.Single(worker.TakeResults());
        Assert.Null(evaluated.Error);
        Assert.InRange(evaluated.Loss["a"], 1, 6);

        using var plain = new TrainingLoop(Options(Path.Combine(folder, "plain")) with { AverageDecay = null });
        await Assert.ThrowsAsync<InvalidOperationException>(plain.ReleaseAverageAsync);
    }

    [Fact]
    public void ReleasingTheAverageWithoutKeepingOneIsRefused() =>
        Assert.Throws<ArgumentException>(() => new TrainingLoop(Options(folder) with { AverageDecay = null, TaskRelease = TaskRelease.Average }));

    TrainingLoopOptions Options(string root) => new()
    {
        Model = Model,
        Torch = new TorchOptions { Device = "cpu" },
        Schedule = Infinite,
        QueueCapacity = 2 * BlocksPerTask,
        Checkpoints = new CheckpointStore(new RunFolders(root).Checkpoints),
        Folders = new RunFolders(root),
        CheckpointEvery = 4,
        Data = new InMemoryCorpora(blocks),
        OnSnapshot = _ => { },
        AverageDecay = Decay,
    };

    void EnqueueAll(TrainingLoop loop, int from = 0)
    {
        foreach (var (corpus, list) in blocks)
            for (var i = corpus == "a" ? from : 0; i < list.Count; i++)
                Assert.True(loop.TryEnqueue(new TrainingBlock(corpus, i, list[i], BlocksPerTask)));
    }

    /// <summary>The average and the live weights a checkpoint holds, flat in the trainer's order.</summary>
    static (float[] Average, float[] Weights) AverageAndWeights(string checkpoint)
    {
        using var trainer = new ModelTrainer(Model, AdamWConfig.Default, new TrainerOptions { AverageDecay = Decay });
        trainer.Load(checkpoint);
        return (Flat(trainer.Average!.Flat), Flat(trainer.Optimizer.FlatMaster));
    }

    /// <summary>A release's weights, flat in the trainer's order.</summary>
    static float[] Weights(string release)
    {
        using var trainer = new ModelTrainer(Model, AdamWConfig.Default);
        trainer.Load(release);
        return Flat(trainer.Optimizer.FlatMaster);
    }

    static float[] Flat(Tensor t) => t.detach().cpu().data<float>().ToArray();

    // The same blocks and waiting as TrainingLoopTests (same sizes).
    static List<int[]> Blocks(byte[] text, int offset) => TrainingLoopTests.Blocks(text, offset);

    static TrainingProgress WaitUntil(TrainingLoop loop, Func<TrainingProgress, bool> done) => TrainingLoopTests.WaitUntil(loop, done);

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
