using Orleans.Runtime;
using Streaming.Grains;
using Streaming.Training.Data;
using Streaming.Training.Engine;
using Streaming.Training.Evaluation;
using Streaming.Training.Model;

namespace Streaming.Integration.Tests;

/// <summary>The evaluator grain on real snapshots: rows and releases evaluated beside training, results that
/// outlive the activation, duplicates ignored, releases kept (task ends without a branch too), the main cadence's
/// snapshots deleted, a broken one reported, not fatal.</summary>
public sealed class EvaluatorTests() : OneSiloCluster("evaluator")
{
    static readonly GptConfig Model = new(Layers: 1, Width: 32, Heads: 2, Context: 32, Vocabulary: 256);

    protected override void Configure(StreamingOptions o)
    {
        o.Model = Model;
        o.ValidationBlocks = 2;
    }

    [Fact]
    public async Task EvaluatesSnapshotsOnceAndKeepsTheResults()
    {
        var lines = await File.ReadAllLinesAsync(SampleCorpora.File("english"));
        foreach (var (name, skip) in new[] { ("a", 0), ("b", 10) })
        {
            var source = Path.Combine(Data, $"{name}.jsonl");
            await File.WriteAllLinesAsync(source, lines.Skip(skip).Take(10));
            CorpusIngestor.Ingest(source, Data, name, ByteTokenizer.Instance, new IngestOptions { BlockSize = 2 * 32 + 1 });
        }
        // Model states saved the way the training loop saves them: different seeds, different weights.
        var first = Save("releases/a-step-1", seed: 1);
        var second = Save("releases/b-step-2", seed: 2);
        var live = Save("snapshots/main-step-3", seed: 3);
        var broken = Path.Combine(Data, "runs", "run", "snapshots", "missing");
        var evaluator = Cluster.Client.GetGrain<IEvaluatorGrain>("run");
        SnapshotRef[] snapshots =
        [
            new(first, "task-release", "a", 1, ["a"]),
            new(second, "task-end", "b", 2, ["a", "b"]),
            new(live, "main", "b", 3, ["a", "b"]),
            new(broken, "main", "b", 4, ["a", "b"]),
        ];
        await evaluator.EvaluateAsync(snapshots);
        await evaluator.EvaluateAsync(snapshots[..1]);   // again: ignored

        var report = await WaitFor(evaluator, r => r.Pending == 0);
        Assert.Equal(["a", "b"], report.Matrix.Select(r => r.AfterTask));
        Assert.Equal(["a"], report.Matrix[0].Loss.Keys);
        Assert.Equal(["a", "b"], report.Matrix[1].Loss.Keys.Order());
        Assert.All(report.Matrix.SelectMany(r => r.Loss.Values), loss => Assert.InRange(loss, 4.0, 7.0));   // untrained: about ln 256
        Assert.NotEqual(report.Matrix[0].Loss["a"], report.Matrix[1].Loss["a"]);
        Assert.Equal(report.Matrix[1].Loss["a"] - report.Matrix[0].Loss["a"], report.Forgetting["a"], 12);
        // Both task rows are releases: a task end without a branch is its task's release too, with the row's losses.
        Assert.Equal([first, second], report.Releases.Select(r => r.Snapshot.Path));
        Assert.Equal(report.Matrix.Select(r => r.Loss), report.Releases.Select(r => r.Loss));
        Assert.Equal([live, broken], report.Main.Select(m => m.Snapshot.Path));
        Assert.Null(report.Main[0].Error);
        Assert.NotNull(report.Main[1].Error);
        Assert.True(Directory.Exists(first), "a paper-protocol release is kept");
        Assert.True(Directory.Exists(second), "a task-end release is kept");
        Assert.False(Directory.Exists(live), "a main-cadence snapshot is deleted once evaluated");

        // A new activation reads the results back: nothing is evaluated again (the deleted snapshot could not be).
        await Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await evaluator.EvaluateAsync(snapshots);
        var again = await evaluator.GetReportAsync();
        Assert.Equal(0, again.Pending);
        Assert.Equal(report.Matrix.Select(r => r.Loss["a"]), again.Matrix.Select(r => r.Loss["a"]));
    }

    [Fact]
    public async Task ASnapshotOutsideTheRunsFoldersIsRefusedAndNothingIsDeleted()
    {
        var outside = Directory.CreateDirectory(Path.Combine(Data, "precious")).FullName;
        await File.WriteAllTextAsync(Path.Combine(outside, "keep.txt"), "data");
        var evaluator = Cluster.Client.GetGrain<IEvaluatorGrain>("run");
        var error = await Assert.ThrowsAsync<ArgumentException>(() => evaluator.EvaluateAsync([new(outside, "main", "a", 1, ["a"])]));
        Assert.Contains("is not in run run's releases or snapshots", error.Message);
        Assert.True(File.Exists(Path.Combine(outside, "keep.txt")));
        Assert.Equal(0, (await evaluator.GetReportAsync()).Pending);
    }

    [Fact]
    public async Task ALinkInTheSnapshotsFolderToElsewhereIsRefused()
    {
        var outside = Directory.CreateDirectory(Path.Combine(Data, "elsewhere")).FullName;
        var snapshots = Directory.CreateDirectory(Path.Combine(Data, "runs", "run", "snapshots")).FullName;
        var link = Directory.CreateSymbolicLink(Path.Combine(snapshots, "main-step-00000001"), outside).FullName;
        var evaluator = Cluster.Client.GetGrain<IEvaluatorGrain>("run");
        await Assert.ThrowsAsync<ArgumentException>(() => evaluator.EvaluateAsync([new(link, "main", "a", 1, ["a"])]));
        Assert.True(Directory.Exists(outside));
    }

    [Fact]
    public async Task AMainSnapshotThatCannotBeEvaluatedIsKept()
    {
        var broken = Directory.CreateDirectory(Path.Combine(Data, "runs", "run", "snapshots", "main-step-00000002")).FullName;
        await File.WriteAllTextAsync(Path.Combine(broken, "model.tensors"), "not a model");
        var evaluator = Cluster.Client.GetGrain<IEvaluatorGrain>("run");
        await evaluator.EvaluateAsync([new(broken, "main", "a", 2, ["a"])]);
        var report = await WaitFor(evaluator, r => r.Pending == 0);
        Assert.NotNull(Assert.Single(report.Main).Error);
        Assert.True(Directory.Exists(broken), "a snapshot that failed was deleted");
    }

    [Theory]
    [InlineData("/tmp")]
    [InlineData("..")]
    [InlineData("a/../..")]
    public async Task ARunNameThatIsNotAFolderNameIsRefusedByTheTrainerAndTheEvaluator(string name)
    {
        var trainer = await Assert.ThrowsAnyAsync<Exception>(() => Cluster.Client.GetGrain<ITrainerGrain>(name).GetStatusAsync());
        Assert.Contains("is not a valid run name", trainer.Message);
        var evaluator = await Assert.ThrowsAnyAsync<Exception>(() => Cluster.Client.GetGrain<IEvaluatorGrain>(name).GetReportAsync());
        Assert.Contains("is not a valid run name", evaluator.Message);
    }

    [Fact]
    public async Task OnlyTheNewestMainSnapshotsWaitAndReleasesAlwaysDo()
    {
        var lines = await File.ReadAllLinesAsync(SampleCorpora.File("english"));
        var source = Path.Combine(Data, "c.jsonl");
        await File.WriteAllLinesAsync(source, lines.Take(10));
        CorpusIngestor.Ingest(source, Data, "c", ByteTokenizer.Instance, new IngestOptions { BlockSize = 2 * 32 + 1 });
        var mains = Enumerable.Range(1, 8).Select(step => new SnapshotRef(Save($"snapshots/main-step-{step:D8}", seed: step), "main", "c", step, ["c"])).ToList();
        var release = new SnapshotRef(Save("releases/c-step-00000009", seed: 9), "task-end", "c", 9, ["c"]);
        var evaluator = Cluster.Client.GetGrain<IEvaluatorGrain>("run");
        await evaluator.EvaluateAsync([.. mains, release]);

        var report = await WaitFor(evaluator, r => r.Pending == 0);
        // Four main snapshots may wait: the four oldest are passed over, unevaluated, and their folders deleted.
        Assert.Equal(4, report.Skipped);
        Assert.Equal(mains.Skip(4).Select(m => m.Step), report.Main.Select(m => m.Snapshot.Step));
        Assert.All(mains.Take(4), m => Assert.False(Directory.Exists(m.Path), m.Path));
        Assert.Equal(release.Path, Assert.Single(report.Releases).Snapshot.Path);
    }

    string Save(string folder, long seed)
    {
        var path = Path.Combine(Data, "runs", "run", folder);
        var thread = new Thread(() =>
        {
            using var trainer = new ModelTrainer(Model, new(), new TrainerOptions { Seed = seed });
            trainer.Save(path);
        });
        thread.Start();
        thread.Join();
        return path;
    }

    static async Task<EvaluationReport> WaitFor(IEvaluatorGrain evaluator, Func<EvaluationReport, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            var report = await evaluator.GetReportAsync();
            if (condition(report)) return report;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{report.Pending} snapshots still pending");
            await Task.Delay(200);
        }
    }
}
