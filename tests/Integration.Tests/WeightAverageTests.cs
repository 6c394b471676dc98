using Streaming.Grains;
using Streaming.Training.Checkpoints;
using Streaming.Training.Data;
using Streaming.Training.Engine;
using Streaming.Training.Model;
using Streaming.Training.Optim;
using Streaming.Schedules;

namespace Streaming.Integration.Tests;

/// <summary>A run's weight average through the trainer grain: released at each task end (`--release average`) or on
/// request (`anneal --mode average`), evaluated and exported like any release, shown in the status.</summary>
public sealed class WeightAverageTests() : OneSiloCluster("average")
{
    const int BlockTokens = 4 * 32 + 1;
    static readonly GptConfig Model = new(Layers: 1, Width: 32, Heads: 2, Context: 32, Vocabulary: 256);

    protected override void Configure(StreamingOptions o)
    {
        o.Model = Model;
        o.BlockTokens = BlockTokens;
        o.Schedule = new ScheduleConfig { Kind = "infinite", MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 4, AnnealFraction = 0.25 };
    }

    [Fact]
    public async Task ReleaseAverageMakesTheTaskEndsAverageTheEvaluatedAndExportableRelease()
    {
        var trainer = Cluster.Client.GetGrain<ITrainerGrain>("task-end-average");
        Assert.Equal("--release must be anneal, average or both, not 'sometimes'",
            (await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { Release = "sometimes" }))).Message);
        Assert.Contains("leave out --anneal-fraction",
            (await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { Release = "average", AnnealFraction = 0.2 }))).Message);
        Assert.Equal("--average-decay must be in (0, 1), not 1.5",
            (await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { AverageDecay = 1.5 }))).Message);

        // The silo's schedule has a paper-protocol anneal fraction: --release average drops the branch.
        var description = await trainer.ConfigureAsync(new RunSettings { Release = "average", TaskSteps = 10 });
        Assert.DoesNotContain("anneal fraction", description);
        Assert.Contains($"weight average decay {RunSettings.DefaultAverageDecay}, releases at task ends: average", description);
        await IngestEnglish("task-end-average");
        var status = await WaitFor(trainer, s => s.Evaluations.Count > 0 && s.LastCheckpoint?.EndsWith("step-00000010") == true);

        Assert.Equal(10, status.Step);   // no branch: every block trained the main trajectory
        Assert.Equal(0, status.Corpora[0].TokensAnnealOnly);
        var release = Assert.Single(status.Releases);
        Assert.Equal(("english-task-end-average", 10L, "average"), (release.Task, release.Step, release.Mode));
        Assert.Equal(Assert.Single(status.Evaluations).Loss, release.Loss);
        Assert.Equal(new AverageStatus(RunSettings.DefaultAverageDecay, Math.Log(0.5) / Math.Log(RunSettings.DefaultAverageDecay), "average", release.Path, 10),
            status.Average);
        // Its weights are the average the task-end checkpoint holds.
        Assert.Equal(Average(status.LastCheckpoint!), Weights(release.Path!));

        var exported = Path.Combine(Data, "exported");
        Assert.Contains("model.safetensors, config.json", await trainer.ExportAsync(Path.GetFileName(release.Path!), exported));
        Assert.Contains("\"mode\": \"average\"", await File.ReadAllTextAsync(Path.Combine(exported, HuggingFaceGpt2.ConfigFile)));
    }

    [Fact]
    public async Task AnAverageReleasedOnRequestIsTheAverageNowAndIsEvaluated()
    {
        var plain = Cluster.Client.GetGrain<ITrainerGrain>("no-average");
        Assert.Contains("has no corpora yet", (await Assert.ThrowsAsync<InvalidOperationException>(plain.ReleaseAverageAsync)).Message);
        await plain.ConfigureAsync(new RunSettings { TaskSteps = 4 });
        await IngestEnglish("no-average");
        Assert.Equal("run 'no-average' keeps no weight average: create a run with --average-decay D (or --release average|both)",
            (await Assert.ThrowsAsync<InvalidOperationException>(plain.ReleaseAverageAsync)).Message);
        Assert.Null((await plain.GetStatusAsync()).Average);

        var trainer = Cluster.Client.GetGrain<ITrainerGrain>("on-request");
        await trainer.ConfigureAsync(new RunSettings { AverageDecay = 0.9, TaskSteps = 12 });
        await IngestEnglish("on-request");
        var trained = await WaitUntilTrained(trainer, 12 * BlockTokens);
        // The task's row is still its paper-protocol branch; the average is released beside it, now, without a step.
        Assert.Equal("paper-protocol", Assert.Single(trained.Releases).Mode);
        Assert.Equal("anneal", trained.Average!.TaskRelease);
        Assert.Null(trained.Average.LastRelease);

        var release = await trainer.ReleaseAverageAsync();
        Assert.Equal(("english-on-request", "average"), (release.Task, release.Mode));
        var status = await WaitFor(trainer, s => s.Releases.Count == 2 && s.Releases[1].Loss.Count > 0);
        Assert.Equal(trained.Step, status.Step);
        Assert.Equal(release.Path, status.Average!.LastRelease);
        Assert.Equal(release.Path, status.LastRelease);
        Assert.InRange(status.Releases[1].Loss["english-on-request"], 0.5, status.FirstLoss);
        // The run was checkpointed with it: its weights are the average of the main trajectory at that checkpoint.
        Assert.Equal(Average(status.LastCheckpoint!), Weights(release.Path!));
        Assert.NotEqual(Weights(status.Releases[0].Path!), Weights(release.Path!));
    }

    /// <summary>The weight average a checkpoint holds, flat.</summary>
    static float[] Average(string checkpoint)
    {
        using var trainer = new ModelTrainer(Model, AdamWConfig.Default, new TrainerOptions { AverageDecay = 0.5 });
        trainer.Load(checkpoint);
        return trainer.Average!.Flat.data<float>().ToArray();
    }

    /// <summary>A release's weights, flat in the same order.</summary>
    static float[] Weights(string release)
    {
        using var trainer = new ModelTrainer(Model, AdamWConfig.Default);
        trainer.Load(release);
        return trainer.Optimizer.FlatMaster.data<float>().ToArray();
    }

    async Task<IngestResult> IngestEnglish(string run)
    {
        var text = Path.Combine(Data, $"{run}.jsonl");
        await File.WriteAllLinesAsync(text, (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Take(6));
        return await Cluster.Client.GetGrain<ICorpusGrain>($"english-{run}").IngestAsync(new IngestRequest(run, text));
    }

    /// <summary>Waits until the run's first corpus has trained <paramref name="tokens"/> tokens and its loss-matrix row is evaluated.</summary>
    static Task<RunStatus> WaitUntilTrained(ITrainerGrain trainer, long tokens) =>
        WaitFor(trainer, s => s.Corpora[0].TokensRead >= tokens && s.Evaluations.Count > 0 && s.Releases.All(r => r.Loss.Count > 0));
}
