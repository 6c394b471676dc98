using System.Text;
using Streaming.Training.Loop;
using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Training.Schedules;

namespace Streaming.Training.Tests.Loop;

/// <summary>The training thread end to end, without Orleans: tasks, paper-protocol anneal branches, releases, checkpoints.</summary>
[Collection("torch")]
public sealed class TrainingLoopTests : IDisposable
{
    const int Context = 32, BlockTokens = 2 * Context + 1, BlocksPerTask = 8;
    readonly string folder = Directory.CreateTempSubdirectory("streaming-loop-").FullName;

    [Fact]
    public void PaperProtocolAnnealsEachTaskAndReturnsToTheFork()
    {
        var text = File.ReadAllBytes("/usr/share/common-licenses/GPL-3");
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
            CheckpointDirectory = Path.Combine(folder, "checkpoints"),
            CheckpointEvery = 3,
            ValidationBlocks = corpus => blocks[corpus].Take(1),
        });
        foreach (var (corpus, list) in blocks)
            for (var i = 0; i < list.Count; i++)
                Assert.True(loop.TryEnqueue(new TrainingBlock(corpus, i, list[i], BlocksPerTask)));

        var progress = WaitUntil(loop, p => p.Evaluations.Count == 2 && p.LastCheckpoint?.NextSequence.GetValueOrDefault("b") == BlocksPerTask);

        Assert.True(progress.Error is null, progress.Error);
        // Each task: T - A = 6 main steps, then a branch of A = 2 steps whose weights are a release, then back to the fork.
        Assert.Equal(2 * (BlocksPerTask - 2), progress.Step);
        Assert.Equal(blocks["a"].Sum(b => b.Length), progress.TokensTrained["a"]);
        Assert.Equal(blocks["b"].Sum(b => b.Length), progress.TokensTrained["b"]);
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(folder, "releases")).Length);
        Assert.EndsWith("b-step-00000016", progress.LastRelease);
        Assert.Equal(["a"], progress.Evaluations[0].Loss.Keys);
        Assert.Equal(["a", "b"], progress.Evaluations[1].Loss.Keys.Order());
        Assert.True(Directory.GetDirectories(Path.Combine(folder, "checkpoints")).Length <= 2, "old checkpoints are removed");
    }

    static List<int[]> Blocks(byte[] text, int offset) =>
        [.. Enumerable.Range(0, BlocksPerTask).Select(i => text.Skip(offset + i * BlockTokens).Take(BlockTokens).Select(b => (int)b).ToArray())];

    static TrainingProgress WaitUntil(TrainingLoop loop, Func<TrainingProgress, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!done(loop.Progress) && loop.Progress.Error is null && DateTime.UtcNow < deadline) Thread.Sleep(50);
        return loop.Progress;
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
