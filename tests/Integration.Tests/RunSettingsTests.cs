using System.Text.Json;
using Streaming.Grains;
using Streaming.Training.Checkpoints;
using Streaming.Training.Data;
using Streaming.Training.Loop;
using Streaming.Training.Model;
using Streaming.Schedules;

namespace Streaming.Integration.Tests;

/// <summary>A run with its own settings: another schedule kind, a cap on each task's steps, a horizon, an evaluation
/// cadence, refusals in one line.</summary>
public sealed class RunSettingsTests() : OneSiloCluster("run-settings")
{
    const int BlockTokens = 4 * 32 + 1;

    protected override void Configure(StreamingOptions o)
    {
        o.Model = new GptConfig(Layers: 1, Width: 32, Heads: 2, Context: 32, Vocabulary: 256);
        o.BlockTokens = BlockTokens;
        o.Schedule = new ScheduleConfig { Kind = "infinite", MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 4, AnnealFraction = 0.25 };
    }

    [Fact]
    public async Task ARunTrainsWithItsOwnScheduleAndStepsPerTask()
    {
        var trainer = Cluster.Client.GetGrain<ITrainerGrain>("cosine");
        var bad = await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { Schedule = "repeated-cosine", AnnealFraction = 0.2 }));
        Assert.Contains("--anneal-fraction", bad.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { ReplayFraction = 1.5 }));
        await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { Schedule = "sawtooth" }));

        // The silo's default has a paper-protocol anneal fraction; a kind without branches does not inherit it.
        var description = await trainer.ConfigureAsync(new RunSettings { Schedule = "repeated-cosine", WarmupSteps = 2, TaskSteps = 10, Seed = 7 });
        Assert.StartsWith("repeated-cosine schedule", description);
        Assert.Contains("at most 10 steps per task", description);

        var corpus = await IngestEnglish("cosine");
        // The ingest says what the run will train (its first 10 blocks) of a corpus stored whole.
        Assert.Equal((10L, 10L * BlockTokens), (corpus.Blocks, corpus.Tokens));
        using (var stored = BlockStore.Open(Data, "english")) Assert.True(stored.TrainBlockCount > 10);
        var status = await WaitUntilTrained(trainer, 10 * BlockTokens);

        Assert.Equal("repeated-cosine", status.Schedule);
        Assert.Equal(10 * BlockTokens, status.Corpora[0].TokensTotal);
        Assert.Equal(10 * BlockTokens, status.Corpora[0].TokensRead);
        Assert.Equal(10, status.Step);
        var row = Assert.Single(status.Evaluations);
        Assert.Equal("english", row.AfterTask);
        // No anneal branches in repeated-cosine: the model at the task's end is the task's release, kept and evaluated.
        var release = Assert.Single(status.Releases);
        Assert.Equal("task-end", release.Mode);
        Assert.Equal(("english", 10L), (release.Task, release.Step));
        Assert.True(Directory.Exists(release.Path), release.Path);
        Assert.Equal(release.Path, status.LastRelease);
        Assert.Equal(row.Loss, release.Loss);
        // Its cosine ends the task at the minimum rate.
        Assert.Equal(3e-4, status.Lr, 12);
        var late = await Assert.ThrowsAsync<InvalidOperationException>(() => trainer.ConfigureAsync(new RunSettings { Schedule = "infinite" }));
        Assert.Contains("settings are fixed", late.Message);
    }

    [Fact]
    public async Task ASingleHorizonRunTrainsToItsHorizonAndIsEvaluatedAtItsOwnCadence()
    {
        var trainer = Cluster.Client.GetGrain<ITrainerGrain>("horizon");
        var missing = await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { Schedule = "cosine" }));
        Assert.Equal("schedule: --total-steps: a cosine schedule needs its horizon (the sum of the task lengths)", missing.Message);

        // The silo evaluates the live model every 100 steps; this run every 3.
        var settings = new RunSettings { Schedule = "cosine", WarmupSteps = 2, TotalSteps = 10, TaskSteps = 10, EvaluateEvery = 3 };
        Assert.Contains("horizon 10", await trainer.ConfigureAsync(settings));
        var effective = JsonSerializer.Deserialize<ScheduleConfig>(await trainer.GetScheduleConfigAsync(), ScheduleState.JsonOptions);
        Assert.Equal(new ScheduleConfig { Kind = "cosine", MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 4, TotalSteps = 10 }, effective);

        await IngestEnglish("horizon");
        var status = await WaitUntilTrained(trainer, 10 * BlockTokens);
        Assert.Equal("cosine", status.Schedule);
        Assert.Equal(10, status.Step);
        // The horizon is the run's last step: the decay ends there at the minimum rate.
        Assert.Equal(3e-4, status.Lr, 12);

        var evaluator = Cluster.Client.GetGrain<IEvaluatorGrain>("horizon");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        EvaluationReport report;
        while ((report = await evaluator.GetReportAsync()).Pending > 0 && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.Equal([3L, 6L, 9L], report.Main.Select(m => m.Snapshot.Step));   // step 10 ends the task: its release, not a main snapshot
        Assert.All(report.Main, m => Assert.Null(m.Error));
    }

    [Fact]
    public async Task ARunTrainsItsOwnModelAndBatchFromTheSharedStoredCorpus()
    {
        var trainer = Cluster.Client.GetGrain<ITrainerGrain>("shaped");
        var batch = await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { Context = 16, BatchTokens = 40 }));
        Assert.Contains("--batch-tokens", batch.Message);
        var micro = await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { Context = 16, BatchTokens = 64, MicroBatchRows = 9 }));
        Assert.Contains("--micro-batch", micro.Message);
        var model = await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { Model = "gpt5" }));
        Assert.Contains("gpt5", model.Message);
        Assert.DoesNotContain('\n', model.Message);
        // Far beyond this machine's memory: refused before anything is allocated, saying what to change.
        var huge = await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { Layers = 96, Width = 12288, Heads = 96 }));
        Assert.Contains("memory", huge.Message);
        Assert.DoesNotContain('\n', huge.Message);

        var description = await trainer.ConfigureAsync(new RunSettings
        {
            Schedule = "constant", WarmupSteps = 1, TaskSteps = 6, Layers = 2, Width = 64, Heads = 2, Context = 16, BatchTokens = 64, MicroBatchRows = 3,
        });
        Assert.Contains("model 2 layers, width 64, 2 heads, context 16", description);
        Assert.Contains("batch 64 tokens (4 rows, micro-batches of 3 rows)", description);

        // The stored corpus was cut into the silo's 129-token blocks; this run reads it in 65-token blocks.
        await IngestEnglish("shaped");
        var status = await WaitUntilTrained(trainer, 6 * 65);
        Assert.Equal(6, status.Step);
        Assert.Equal(6 * 65, status.Corpora[0].TokensRead);
        var expected = new GptConfig(2, 64, 2, 16, 256);
        Assert.Equal(expected.ToString(), status.Model);
        Assert.Equal(expected.ParameterCount, status.Parameters);
        Assert.All(status.Evaluations, row => Assert.All(row.Loss.Values, loss => Assert.True(double.IsFinite(loss))));
    }

    [Fact]
    public async Task ARunStartsFromPretrainedWeightsAndItsReleaseIsExported()
    {
        var pretrained = Path.Combine(Data, "pretrained");
        Directory.CreateDirectory(pretrained);
        Streaming.Training.Tests.Checkpoints.PyTorchReference.Run("init", pretrained, "11", "1", "32", "2", "64", "256");
        var trainer = Cluster.Client.GetGrain<ITrainerGrain>("continued");
        var shape = await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { Init = pretrained, Layers = 2 }));
        Assert.Contains("holds 1 layers, width 32, 2 heads", shape.Message);
        var context = await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { Init = pretrained, Context = 128 }));
        Assert.Contains("--context 128 is longer than the 64 positions", context.Message);
        var missing = await Assert.ThrowsAsync<ArgumentException>(() => trainer.ConfigureAsync(new RunSettings { Init = Path.Combine(Data, "nothing") }));
        Assert.StartsWith("--init: no model.safetensors at", missing.Message);

        var description = await trainer.ConfigureAsync(new RunSettings { Schedule = "constant", WarmupSteps = 1, TaskSteps = 4, Init = pretrained, Context = 32 });
        Assert.Contains("model 1 layers, width 32, 2 heads, context 32", description);
        await IngestEnglish("continued");
        var status = await WaitUntilTrained(trainer, 4 * BlockTokens);
        Assert.Equal(new GptConfig(1, 32, 2, 32, 256) { TanhGelu = true }.ToString(), status.Model);

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => trainer.ExportAsync("nope", Path.Combine(Data, "out")));
        Assert.Contains("has no release 'nope'", refused.Message);
        var exported = Path.Combine(Data, "exported");
        var line = await trainer.ExportAsync("latest", exported);
        Assert.Contains("model.safetensors, config.json", line);
        // The release, read back, is the pretrained model trained 4 steps: same shape and activation, other weights.
        var config = HuggingFaceGpt2.ReadConfig(exported);
        Assert.Equal(HuggingFaceGpt2.ReadConfig(pretrained) with { Context = 32 }, config);
        Assert.Contains("\"tokenizer\": \"byte\"", await File.ReadAllTextAsync(Path.Combine(exported, HuggingFaceGpt2.ConfigFile)));
        var before = HuggingFaceGpt2.ReadWeights(pretrained, config)["h.0.mlp.c_fc.weight"];
        var after = HuggingFaceGpt2.ReadWeights(exported, config)["h.0.mlp.c_fc.weight"];
        var change = (after - before).abs().max().item<float>();
        Assert.InRange(change, 1e-6f, 0.1f);
        var again = await Assert.ThrowsAsync<ArgumentException>(() => trainer.ExportAsync("latest", exported));
        Assert.Contains("already holds a model", again.Message);
    }

    async Task<IngestResult> IngestEnglish(string run)
    {
        var text = Path.Combine(Data, "english.jsonl");
        await File.WriteAllLinesAsync(text, (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Take(6));
        return await Cluster.Client.GetGrain<ICorpusGrain>("english").IngestAsync(new IngestRequest(run, text));
    }

    /// <summary>Waits until the run's first corpus has trained <paramref name="tokens"/> tokens and its loss-matrix row is evaluated.</summary>
    static async Task<RunStatus> WaitUntilTrained(ITrainerGrain trainer, long tokens)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        RunStatus status;
        do
        {
            await Task.Delay(200);
            status = await trainer.GetStatusAsync();
            Assert.DoesNotContain("failed", status.Phase);
        }
        while ((status.Corpora[0].TokensRead < tokens || status.Evaluations.Count == 0) && DateTime.UtcNow < deadline);
        return status;
    }
}
