using System.Text;
using Streaming.Training.Checkpoints;
using Streaming.Training.Data;
using Streaming.Training.Evaluation;
using Streaming.Training.Loop;
using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Schedules;

namespace Streaming.Training.Tests.Loop;

/// <summary>The training thread end to end, without Orleans: tasks, paper-protocol anneal branches, releases (task ends
/// without a branch too), checkpoints.</summary>
[Collection("torch")]
public sealed class TrainingLoopTests : IDisposable
{
    const int Context = 32, BlockTokens = 2 * Context + 1, BlocksPerTask = 8;
    readonly string folder = Directory.CreateTempSubdirectory("streaming-loop-").FullName;
    readonly System.Collections.Concurrent.ConcurrentQueue<Snapshot> snapshots = new();

    [Fact]
    public void PaperProtocolAnnealsEachTaskAndReturnsToTheFork()
    {
        var text = Text();
        var blocks = new Dictionary<string, List<int[]>>
        {
            ["a"] = Blocks(text, 0),
            ["b"] = Blocks(text, BlocksPerTask * BlockTokens),
        };
        using var loop = new TrainingLoop(new TrainingLoopOptions
        {
            Model = new GptConfig(2, 32, 2, Context, 256),
            Torch = new TorchOptions { Device = "cpu" },
            Schedule = new ScheduleConfig { MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 4, AnnealFraction = 0.25 },
            QueueCapacity = 2 * BlocksPerTask,
            Checkpoints = new CheckpointStore(new RunFolders(folder).Checkpoints),
            Folders = new RunFolders(folder),
            CheckpointEvery = 3,
            OnSnapshot = snapshots.Enqueue,
        });
        foreach (var (corpus, list) in blocks)
            for (var i = 0; i < list.Count; i++)
                Assert.True(loop.TryEnqueue(new TrainingBlock(corpus, i, list[i], BlocksPerTask)));

        var progress = WaitUntil(loop, p => p.State.TaskSnapshots.Count == 2 && p.LastCheckpoint?.State.NextSequence.GetValueOrDefault("b") == BlocksPerTask);

        Assert.True(progress.Error is null, progress.Error);
        // Each task: T - A = 6 main steps, then a branch of A = 2 steps whose weights are a release, then back to the fork.
        Assert.Equal(2 * (BlocksPerTask - 2), progress.Step);
        // The main trajectory trained the first T - A blocks of each task; the last A only fed the branch, counted apart.
        foreach (var corpus in blocks.Keys)
        {
            Assert.Equal(blocks[corpus].SkipLast(2).Sum(b => b.Length), progress.State.TokensTrained[corpus]);
            Assert.Equal(blocks[corpus].TakeLast(2).Sum(b => b.Length), progress.State.TokensAnnealOnly[corpus]);
            Assert.Equal(BlocksPerTask, progress.State.NextSequence[corpus]);
        }
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(folder, "releases")).Length);
        Assert.EndsWith("b-step-00000016", progress.LastRelease);
        // Each release is its task's row of the loss matrix, to be evaluated on the corpora seen so far.
        Assert.Equal([("a", SnapshotKind.TaskRelease, "a"), ("b", SnapshotKind.TaskRelease, "a,b")],
            snapshots.Select(s => (s.Task, s.Kind, string.Join(',', s.Corpora))));
        Assert.Equal(progress.LastRelease, snapshots.Last().Path);
        Assert.True(Directory.GetDirectories(Path.Combine(folder, "checkpoints")).Length <= 2, "old checkpoints are removed");
    }

    [Fact]
    public void OnDemandAnnealReleasesAndLeavesTheMainTrajectoryAsIfNothingHappened()
    {
        var text = Text();
        var blocks = new Dictionary<string, List<int[]>> { ["a"] = Blocks(text, 0) };
        var schedule = new ScheduleConfig { MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 2 };

        TrainingProgress Train(bool anneal)
        {
            using var loop = new TrainingLoop(Options(blocks, schedule, Path.Combine(folder, anneal ? "with" : "without")));
            for (var i = 0; i < 3; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
            WaitUntil(loop, p => p.Step == 3);
            if (anneal) loop.RequestAnneal(new AnnealRequest(1, 2));
            for (var i = 3; i < BlocksPerTask; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
            return WaitUntil(loop, p => p.State.TaskSnapshots.Any(s => s.Kind == SnapshotKind.TaskEnd));
        }

        var plain = Train(anneal: false);
        var annealed = Train(anneal: true);

        Assert.True(annealed.Error is null, annealed.Error);
        // The on-demand release, then the task's end (no paper-protocol branch here) as the task's release.
        Assert.Equal([ReleaseMode.OnDemand, ReleaseMode.TaskEnd], annealed.State.Releases.Select(r => r.Mode));
        var release = annealed.State.Releases[0];
        Assert.Equal(3 + 2, release.Step);   // forked after 3 main steps, then 2 branch steps
        Assert.True(Directory.Exists(release.Path), release.Path);
        Assert.Equal(1, annealed.State.AnnealsDone);
        Assert.Null(annealed.PendingAnneal);
        // The branch borrowed blocks 3 and 4; the main trajectory trained them itself after it, bit for bit as without the branch.
        Assert.Equal(BlocksPerTask, annealed.Step);
        Assert.Equal(blocks["a"].Sum(b => b.Length), annealed.State.TokensTrained["a"]);
        Assert.Equal(plain.Loss, annealed.Loss);
        Assert.Equal([SnapshotKind.OnDemandRelease, SnapshotKind.TaskEnd], annealed.State.TaskSnapshots.Select(s => s.Kind));
        Assert.Equal(release.Path, annealed.State.TaskSnapshots[0].Path);
        // Evaluated beside training (the evaluator's own thread and model): same weights, same losses.
        using var worker = new EvaluationWorker(new(), new TorchOptions { Device = "cpu" }, new InMemoryCorpora(blocks));
        worker.Enqueue(plain.State.TaskSnapshots.Single());
        worker.Enqueue(annealed.State.TaskSnapshots[1]);
        worker.Enqueue(annealed.State.TaskSnapshots[0]);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (worker.Pending > 0 && DateTime.UtcNow < deadline) Thread.Sleep(50);
        var results = worker.TakeResults();
        Assert.All(results, r => Assert.Null(r.Error));
        Assert.Equal(results[0].Loss["a"], results[1].Loss["a"]);
        Assert.NotEqual(results[0].Loss["a"], results[2].Loss["a"]);   // the release is annealed: other weights
        Assert.Equal(ReleaseMode.TaskEnd, Assert.Single(plain.State.Releases).Mode);
    }

    [Fact]
    public void AnOnDemandAnnealAlreadyReleasedIsNotRepeatedAfterAResume()
    {
        var text = Text();
        var blocks = new Dictionary<string, List<int[]>> { ["a"] = Blocks(text, 0) };
        var schedule = new ScheduleConfig { MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 2 };
        var options = Options(blocks, schedule, folder) with { PendingAnneal = new AnnealRequest(1, 2), CheckpointEvery = 1 };
        string checkpoint;
        using (var loop = new TrainingLoop(options))
        {
            for (var i = 0; i < 4; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
            var first = WaitUntil(loop, p => p.Step == 4 && p.LastCheckpoint?.Step == 4);
            Assert.True(first.Error is null, first.Error);
            Assert.Single(first.State.Releases);
            checkpoint = first.LastCheckpoint!.Path;
        }
        // The grain still held the request when the silo died: the resumed loop sees it was released and ignores it.
        using var resumed = new TrainingLoop(options with { ResumeFrom = checkpoint });
        for (var i = 4; i < BlocksPerTask; i++) Assert.True(resumed.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
        var after = WaitUntil(resumed, p => p.State.TaskSnapshots.Any(s => s.Kind == SnapshotKind.TaskEnd));
        Assert.True(after.Error is null, after.Error);
        Assert.Equal([ReleaseMode.OnDemand, ReleaseMode.TaskEnd], after.State.Releases.Select(r => r.Mode));
        Assert.Null(after.PendingAnneal);
        Assert.Equal(blocks["a"].Sum(b => b.Length), after.State.TokensTrained["a"]);
    }

    [Fact]
    public void ATaskEndWithoutABranchIsTheTasksReleaseAndSurvivesAResume()
    {
        var text = Text();
        var blocks = new Dictionary<string, List<int[]>>
        {
            ["a"] = Blocks(text, 0),
            ["b"] = Blocks(text, BlocksPerTask * BlockTokens),
        };
        var schedule = new ScheduleConfig { Kind = "repeated-cosine", MaxLr = 3e-3, MinLr = 3e-4, WarmupSteps = 2 };
        var options = Options(blocks, schedule, folder) with { OnSnapshot = snapshots.Enqueue };
        TrainingProgress progress;
        using (var loop = new TrainingLoop(options))
        {
            foreach (var (corpus, list) in blocks)
                for (var i = 0; i < list.Count; i++)
                    Assert.True(loop.TryEnqueue(new TrainingBlock(corpus, i, list[i], BlocksPerTask)));
            progress = WaitUntil(loop, p => p.State.Releases.Count == 2 && p.LastCheckpoint?.Step == 2 * BlocksPerTask);
        }

        Assert.True(progress.Error is null, progress.Error);
        Assert.Equal(["a", "b"], progress.State.Tasks);
        Assert.False(progress.NonFiniteLoss);
        // Kept like a paper-protocol release: under releases/, named by task and step, listed, and its task's loss-matrix row.
        var releases = Path.Combine(folder, "releases");
        Assert.Equal([("a", 8L, ReleaseMode.TaskEnd, Path.Combine(releases, "a-step-00000008")), ("b", 16L, ReleaseMode.TaskEnd, Path.Combine(releases, "b-step-00000016"))],
            progress.State.Releases.Select(r => (r.Task, r.Step, r.Mode, r.Path)));
        Assert.All(progress.State.Releases, r => Assert.True(Directory.Exists(r.Path), r.Path));
        Assert.Equal(progress.State.Releases[^1].Path, progress.LastRelease);
        Assert.Equal(progress.State.Releases.Select(r => (r.Path, SnapshotKind.TaskEnd, r.Task)), snapshots.Select(s => ((string?)s.Path, s.Kind, s.Task)));
        Assert.Equal(snapshots, progress.State.TaskSnapshots);
        Assert.False(Directory.Exists(Path.Combine(folder, "snapshots")), "nothing temporary was saved");

        // The last checkpoint lists them, so a resumed run still reports them (and sends them to the evaluators again).
        snapshots.Clear();
        using var resumed = new TrainingLoop(options with { ResumeFrom = progress.LastCheckpoint!.Path });
        var after = WaitUntil(resumed, p => p.State.Releases.Count == 2);
        Assert.True(after.Error is null, after.Error);
        Assert.Equal(progress.State.Releases, after.State.Releases);
        Assert.Equal(progress.State.Tasks, after.State.Tasks);
        Assert.Equal(progress.State.TaskSnapshots.Select(s => (s.Path, s.Kind, s.Step)), snapshots.Select(s => (s.Path, s.Kind, s.Step)));
    }

    // A rate of 1e30 overflows the weights within the first steps.
    static readonly ScheduleConfig Overflowing = new() { MaxLr = 1e30, ConstLr = 1e29, MinLr = 1e28, WarmupSteps = 2, CooldownSteps = 2 };

    [Fact]
    public void StepsWithANonFiniteLossAreSkippedAndCountedAndTrainingGoesOn()
    {
        var text = Text();
        var blocks = new Dictionary<string, List<int[]>> { ["a"] = Blocks(text, 0) };
        using var loop = new TrainingLoop(Options(blocks, Overflowing, folder));
        for (var i = 0; i < BlocksPerTask; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
        var progress = WaitUntil(loop, p => p.StepsExecuted == BlocksPerTask);

        Assert.True(progress.Error is null, progress.Error);
        Assert.Equal(BlocksPerTask, progress.StepsExecuted);
        Assert.False(double.IsFinite(progress.Loss));
        Assert.True(progress.NonFiniteLoss);
        Assert.InRange(progress.State.SkippedSteps, 1, BlocksPerTask - 1);
        // Only the steps that were not skipped updated the weights.
        Assert.Equal(BlocksPerTask - progress.State.SkippedSteps, progress.Step);
    }

    [Fact]
    public void StepsSkippedInARowStopTheLoopWithOneLine()
    {
        var text = Text();
        var blocks = new Dictionary<string, List<int[]>> { ["a"] = Blocks(text, 0) };
        using var loop = new TrainingLoop(Options(blocks, Overflowing, folder) with { MaxSkippedStepsInARow = 3, MaxRollbacks = 0 });
        for (var i = 0; i < BlocksPerTask; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
        var progress = WaitUntil(loop, p => p.Error is not null);

        Assert.StartsWith("3 steps in a row had a NaN or infinite loss or gradient and were skipped (the last on a block ", progress.Error);
        Assert.Contains("training stopped; the last checkpoint", progress.Error);
        // The third stops the loop before its block is read: a resume from the checkpoint meets that block again.
        Assert.Equal(2, progress.State.SkippedSteps);
    }

    [Fact]
    public void StepsSkippedInARowRollBackToTheLastCheckpointAndPassOverTheBlocksReadSince()
    {
        var text = Text();
        var blocks = new Dictionary<string, List<int[]>> { ["a"] = Blocks(text, 0), ["b"] = Blocks(text, BlocksPerTask * BlockTokens) };
        var schedule = new ScheduleConfig { MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 2 };
        var options = Options(blocks, schedule, folder) with { MaxSkippedStepsInARow = 3, MaxRollbacks = 1 };
        TrainingProgress Feed(TrainingLoop loop, string corpus, int from, int to, Func<TrainingProgress, bool> done)
        {
            for (var i = from; i < to; i++) Assert.True(loop.TryEnqueue(new TrainingBlock(corpus, i, blocks[corpus][i], BlocksPerTask)));
            return WaitUntil(loop, done);
        }
        TrainingProgress healthy;
        using (var loop = new TrainingLoop(options))
            healthy = Feed(loop, "a", 0, 4, p => p.LastCheckpoint?.Step == 4);
        var kept = Path.Combine(folder, "kept");
        Directory.CreateDirectory(kept);
        File.Copy(Path.Combine(healthy.LastCheckpoint!.Path, Checkpoint.ModelFile), Path.Combine(kept, Checkpoint.ModelFile));

        // From step 4 on, a rate of 1e30: block 4 blows the weights up (its own loss is still finite), blocks 5, 6 and 7 are
        // skipped, and the third in a row rolls back to the checkpoint of step 4, past blocks 4-7 (the task's end).
        using (var loop = new TrainingLoop(options with { ResumeFrom = healthy.LastCheckpoint.Path, Schedule = schedule with { MaxLr = 1e30, ConstLr = 1e30 } }))
        {
            var rolled = Feed(loop, "a", 4, BlocksPerTask, p => p.LastCheckpoint?.State.NextSequence["a"] == BlocksPerTask);
            Assert.True(rolled.Error is null, rolled.Error);
            Assert.Equal(1, rolled.State.Rollbacks);
            Assert.Equal(4, rolled.Step);                            // the optimizer's step count is the checkpoint's
            Assert.Equal(4, rolled.State.SkippedSteps);              // blocks 4-7: every step since the checkpoint
            // Every token read once: the cursor is past the task, the passed-over blocks counted as skipped.
            Assert.Equal(blocks["a"].Sum(b => b.Length), rolled.State.TokensTrained["a"]);
            Assert.Equal(blocks["a"].Skip(4).Sum(b => b.Length), rolled.State.TokensSkipped["a"]);
            // The checkpoint written after the rollback holds the weights of step 4, bit for bit.
            Assert.EndsWith("step-00000008", rolled.LastCheckpoint!.Path);
            Assert.Equal(File.ReadAllBytes(Path.Combine(kept, Checkpoint.ModelFile)),
                File.ReadAllBytes(Path.Combine(rolled.LastCheckpoint.Path, Checkpoint.ModelFile)));
            Assert.Equal(1, LoopState.ReadFrom(rolled.LastCheckpoint.Path).Rollbacks);

            // The rate is still 1e30: the next divergence finds no rollback left and stops in one line.
            var stopped = Feed(loop, "b", 0, 4, p => p.Error is not null);
            Assert.StartsWith("3 steps in a row had a NaN or infinite loss or gradient and were skipped (the last on b block 3) after 1 rollback "
                + "to the last checkpoint: training stopped; the last checkpoint (", stopped.Error);
        }

        // Resumed from the rollback's checkpoint at a sane rate, the run trains on: counts as saved, finite losses.
        using (var loop = new TrainingLoop(options with { ResumeFrom = Path.Combine(folder, "checkpoints", "step-00000008") }))
        {
            var after = Feed(loop, "b", 0, BlocksPerTask, p => p.State.NextSequence.GetValueOrDefault("b") == BlocksPerTask);
            Assert.True(after.Error is null, after.Error);
            Assert.True(double.IsFinite(after.Loss));
            Assert.Equal(4 + BlocksPerTask, after.Step);
            Assert.Equal((1, 4L), (after.State.Rollbacks, after.State.SkippedSteps));
            Assert.False(after.State.TokensSkipped.ContainsKey("b"));
        }
    }

    [Fact]
    public void ALossSpikeIsReportedAndItsDetectorResumesFromTheCheckpoint()
    {
        var text = Text();
        var blocks = new Dictionary<string, List<int[]>> { ["a"] = Blocks(text, 0) };
        var schedule = new ScheduleConfig { MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 2 };
        var options = Options(blocks, schedule, folder) with { LossSpikes = new LossSpikeRule { Warmup = 3 } };
        string checkpoint;
        using (var loop = new TrainingLoop(options))
        {
            for (var i = 0; i < 4; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
            var healthy = WaitUntil(loop, p => p.LastCheckpoint?.Step == 4);
            Assert.Equal((4L, 0L), (healthy.State.LossSpikes.Observed, healthy.State.LossSpikes.Count));
            checkpoint = healthy.LastCheckpoint!.Path;
        }
        // A rate of 0.5 from step 4 on: the weights jump and the next loss is far above the four before it.
        using (var loop = new TrainingLoop(options with { ResumeFrom = checkpoint, Schedule = schedule with { MaxLr = 0.5, ConstLr = 0.5 } }))
        {
            for (var i = 4; i < BlocksPerTask; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
            var spiked = WaitUntil(loop, p => p.LastCheckpoint?.State.NextSequence["a"] == BlocksPerTask);
            Assert.True(spiked.Error is null, spiked.Error);
            var spike = spiked.State.LossSpikes.Last;
            Assert.NotNull(spike);
            Assert.InRange(spiked.State.LossSpikes.Count, 1, 3);
            Assert.InRange(spike.Step, 6, BlocksPerTask);           // step 5 trained with the old weights: its loss is no spike
            Assert.True(spike.Loss > spike.Reference, $"{spike}");
            Assert.Equal(spiked.State.LossSpikes, LoopState.ReadFrom(spiked.LastCheckpoint!.Path).LossSpikes);
        }
    }

    [Fact]
    public void ATokenIdOutsideTheVocabularyStopsTheLoopWithOneLineBeforeTheDeviceSeesIt()
    {
        var text = Text();
        var blocks = new Dictionary<string, List<int[]>> { ["a"] = Blocks(text, 0) };
        var schedule = new ScheduleConfig { MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 2 };
        using var loop = new TrainingLoop(Options(blocks, schedule, folder));
        var damaged = (int[])blocks["a"][2].Clone();
        damaged[5] = 256;   // the model has 256 tokens: 0..255
        for (var i = 0; i < 2; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
        Assert.True(loop.TryEnqueue(new TrainingBlock("a", 2, damaged, BlocksPerTask)));
        var progress = WaitUntil(loop, p => p.Error is not null);

        Assert.Equal("the batch of a block 2: token id 256 at position 5 is outside the model's 256 tokens: the stored corpus is damaged "
            + "or was made with another tokenizer", progress.Error);
        Assert.Equal(2, progress.Step);
        Assert.Equal(2, progress.State.NextSequence["a"]);
    }

    [Fact]
    public void ReplayMixesEarlierCorporaIntoLaterTasksOnly()
    {
        var text = Text();
        var blocks = new Dictionary<string, List<int[]>>
        {
            ["a"] = Blocks(text, 0),
            ["b"] = Blocks(text, BlocksPerTask * BlockTokens),
        };
        var schedule = new ScheduleConfig { MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 2 };
        using var loop = new TrainingLoop(Options(blocks, schedule, folder) with { ReplayFraction = 0.25 });
        for (var i = 0; i < BlocksPerTask; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
        var afterA = WaitUntil(loop, p => p.State.TokensTrained.GetValueOrDefault("a") == blocks["a"].Sum(b => b.Length));
        Assert.Equal(0, afterA.State.ReplayTokens);   // nothing earlier to replay during the first task
        for (var i = 0; i < BlocksPerTask; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("b", i, blocks["b"][i], BlocksPerTask)));
        var afterB = WaitUntil(loop, p => p.State.TokensTrained.GetValueOrDefault("b") == blocks["b"].Sum(b => b.Length));

        Assert.True(afterB.Error is null, afterB.Error);
        // Blocks of 2 rows get round(0.25 * 2 / 0.75) = 1 replay row of at most context + 1 tokens from "a" per step.
        Assert.InRange(afterB.State.ReplayTokens, BlocksPerTask * 2, BlocksPerTask * (Context + 1));
        Assert.Equal(blocks["b"].Sum(b => b.Length), afterB.State.TokensTrained["b"]);
        Assert.Equal(2 * BlocksPerTask, afterB.Step);
    }

    [Fact]
    public void ACheckpointTheOwnerMayResumeFromIsNeverDeleted()
    {
        var text = Text();
        var blocks = new Dictionary<string, List<int[]>> { ["a"] = Blocks(text, 0) };
        var schedule = new ScheduleConfig { MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 2 };
        var directory = Path.Combine(folder, "checkpoints");
        var store = new CheckpointStore(directory, ownerAcknowledges: true);
        using var loop = new TrainingLoop(Options(blocks, schedule, folder) with { CheckpointEvery = 1, Checkpoints = store });
        string[] Saved() => [.. Directory.GetDirectories(directory).Select(Path.GetFileName).Order()!];

        for (var i = 0; i < 4; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
        WaitUntil(loop, p => p.LastCheckpoint?.Step == 4);
        // Nothing acknowledged yet: the owner may still point at any of them.
        Assert.Equal(["step-00000001", "step-00000002", "step-00000003", "step-00000004"], Saved());

        store.Acknowledge(Path.Combine(directory, "step-00000002"));
        for (var i = 4; i < 6; i++) Assert.True(loop.TryEnqueue(new TrainingBlock("a", i, blocks["a"][i], BlocksPerTask)));
        WaitUntil(loop, p => p.LastCheckpoint?.Step == 6);
        Assert.Equal(["step-00000002", "step-00000003", "step-00000004", "step-00000005", "step-00000006"], Saved());

        store.Acknowledge(Path.Combine(directory, "step-00000006"));
        Assert.True(loop.TryEnqueue(new TrainingBlock("a", 6, blocks["a"][6], BlocksPerTask)));
        WaitUntil(loop, p => p.LastCheckpoint?.Step == 7);
        Assert.Equal(["step-00000006", "step-00000007"], Saved());
    }

    TrainingLoopOptions Options(Dictionary<string, List<int[]>> blocks, ScheduleConfig schedule, string root) => new()
    {
        Model = new GptConfig(2, 32, 2, Context, 256),
        Torch = new TorchOptions { Device = "cpu" },
        Schedule = schedule,
        QueueCapacity = 2 * BlocksPerTask,
        Checkpoints = new CheckpointStore(new RunFolders(root).Checkpoints),
        Folders = new RunFolders(root),
        CheckpointEvery = 4,
        Data = new InMemoryCorpora(blocks),
        OnSnapshot = _ => { },
    };

    internal static List<int[]> Blocks(byte[] text, int offset) =>
        [.. Enumerable.Range(0, BlocksPerTask).Select(i => text.Skip(offset + i * BlockTokens).Take(BlockTokens).Select(b => (int)b).ToArray())];

    /// <summary>The progress once <paramref name="done"/> holds or the loop has failed; a timeout after a minute is a failure.</summary>
    internal static TrainingProgress WaitUntil(TrainingLoop loop, Func<TrainingProgress, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!done(loop.Progress) && loop.Progress.Error is null)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the loop did not get there in a minute: {loop.Progress}");
            Thread.Sleep(50);
        }
        return loop.Progress;
    }

    /// <summary>Real text from the repository's sample corpora, as bytes.</summary>
    static byte[] Text() => File.ReadAllBytes(SampleCorpora.File("english"));

    public void Dispose() => Directory.Delete(folder, recursive: true);
}

/// <summary>Corpora held in memory: the first block of each is its validation set.</summary>
sealed class InMemoryCorpora(Dictionary<string, List<int[]>> blocks) : ICorpusData
{
    public IEnumerable<int[]> ValidationBlocks(string corpus) => blocks[corpus].Take(1);
    public long TrainBlockCount(string corpus) => blocks[corpus].Count;
    public int[] ReadTrainBlock(string corpus, long sequence) => blocks[corpus][(int)sequence];
}
