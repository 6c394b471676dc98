using Streaming.Training.Checkpoints;
using Streaming.Training.Engine;
using Streaming.Training.Model;
using Streaming.Training.Optim;
using Streaming.Training.Tests.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Training.Tests.Checkpoints;

[Collection("torch")]
public sealed class CheckpointTests : IDisposable
{
    static readonly GptConfig Small = new(2, 32, 4, 16, 256);
    readonly string root = Path.Combine(Path.GetTempPath(), "streaming-ckpt-tests-" + Guid.NewGuid().ToString("N"));

    public CheckpointTests() => TextBatches.Cpu();

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    sealed record Sampler(ulong State);
    sealed record Cursors(Dictionary<string, long> Blocks);

    [Fact]
    public void ResumingMidRunGivesTheUninterruptedLossCurveBitForBit()
    {
        const int total = 12, cut = 5;
        var options = new TrainerOptions { MicroBatchRows = 1, Seed = 21 };
        var adamw = AdamWConfig.Default;
        double Lr(long step) => 2e-3 * Math.Min(1.0, (step + 1) / 4.0);

        // Uninterrupted.
        var straight = new List<float>();
        float[] straightWeights;
        using (var trainer = new ModelTrainer(Small, adamw, options))
        {
            var data = TextBatches.Train(99);
            for (var i = 0; i < total; i++) straight.Add(Step(trainer, data, Lr(trainer.Step)));
            straightWeights = trainer.Optimizer.FlatMaster.data<float>().ToArray();
        }

        // Interrupted at `cut`: save, throw everything away, rebuild, load, continue.
        var resumed = new List<float>();
        var dir = Path.Combine(root, "step-5");
        using (var trainer = new ModelTrainer(Small, adamw, options))
        {
            var data = TextBatches.Train(99);
            for (var i = 0; i < cut; i++) resumed.Add(Step(trainer, data, Lr(trainer.Step)));
            trainer.Save(dir, new CheckpointParts().Set("sampler", new Sampler(data.State)));
            // Keep training past the checkpoint to be sure nothing leaks from the live state.
            for (var i = 0; i < 3; i++) Step(trainer, data, Lr(trainer.Step));
        }
        using (var trainer = new ModelTrainer(Small, adamw, options with { Seed = 1234 }))   // other init: load must overwrite it
        {
            var parts = trainer.Load(dir);
            Assert.Equal(cut, trainer.Step);
            var data = TextBatches.Train(0);
            data.State = parts.Get<Sampler>("sampler").State;
            for (var i = cut; i < total; i++) resumed.Add(Step(trainer, data, Lr(trainer.Step)));
            Assert.Equal(straightWeights, trainer.Optimizer.FlatMaster.data<float>().ToArray());
        }
        Assert.Equal(straight.Select(BitConverter.SingleToInt32Bits), resumed.Select(BitConverter.SingleToInt32Bits));
    }

    static float Step(ModelTrainer trainer, TextBatches data, double lr)
    {
        var (x, y) = data.Next(4, 16);
        using (x) using (y) return trainer.TrainStep(x, y, lr);
    }

    [Fact]
    public void TensorsAndPartsRoundTripExactly()
    {
        var dir = Path.Combine(root, "roundtrip");
        using var f32 = torch.randn(3, 5);
        using var bf16 = torch.randn(7).to(ScalarType.BFloat16);
        using var i64 = torch.tensor(new long[] { long.MinValue, -1, 0, long.MaxValue });
        using var scalar = torch.tensor(42L);
        using var strided = torch.randn(4, 6).t();                   // non-contiguous input
        var model = new Dictionary<string, Tensor> { ["a"] = f32, ["b"] = bf16, ["t"] = strided };
        var optimizer = new Dictionary<string, Tensor> { ["i"] = i64, ["step"] = scalar };
        var parts = new CheckpointParts()
            .Set("cursors", new Cursors(new() { ["en"] = 17, ["de"] = 4 }))
            .Set("schedule", new { phase = "constant", stepsInPhase = 12 });
        var manifest = Checkpoint.Save(dir, Small, 77, model, optimizer, parts);

        Assert.Equal(77, manifest.Step);
        Assert.Equal(new[] { "cursors", "schedule" }, manifest.Parts);
        Assert.Equal(new[] { "model.tensors", "optimizer.tensors", "parts/cursors.json", "parts/schedule.json" }, manifest.Files.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetDirectories(root, "*.tmp-*"));

        using var loaded = Checkpoint.Load(dir, Small);
        Assert.Equal(Small, loaded.Manifest.Model);
        Assert.True(loaded.Model["a"].allclose(f32, 0, 0));
        Assert.Equal(ScalarType.BFloat16, loaded.Model["b"].dtype);
        Assert.True(loaded.Model["b"].allclose(bf16, 0, 0));
        Assert.Equal(new long[] { 6, 4 }, loaded.Model["t"].shape);
        Assert.True(loaded.Model["t"].allclose(strided, 0, 0));
        Assert.Equal(i64.data<long>().ToArray(), loaded.Optimizer["i"].data<long>().ToArray());
        Assert.Equal(42L, loaded.Optimizer["step"].item<long>());
        Assert.Equal(17, loaded.Parts.Get<Cursors>("cursors").Blocks["en"]);
    }

    [Fact]
    public void RefusesAnotherModelConfigWithAClearMessage()
    {
        var dir = Path.Combine(root, "other");
        using (var trainer = new ModelTrainer(Small, AdamWConfig.Default)) trainer.Save(dir);
        using var bigger = new ModelTrainer(Small with { Layers = 3 }, AdamWConfig.Default);
        var e = Assert.Throws<CheckpointException>(() => bigger.Load(dir));
        Assert.Contains("2x32 h4 ctx16 v256", e.Message);
        Assert.Contains("3x32 h4 ctx16 v256", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(0, bigger.Step);
    }

    [Fact]
    public void DetectsTruncatedAndCorruptedFiles()
    {
        var dir = Path.Combine(root, "damaged");
        using var trainer = new ModelTrainer(Small, AdamWConfig.Default);
        trainer.Save(dir, new CheckpointParts().Set("sampler", new Sampler(5)));
        Checkpoint.Verify(dir);

        var optimizerFile = Path.Combine(dir, Checkpoint.OptimizerFile);
        var original = File.ReadAllBytes(optimizerFile);
        File.WriteAllBytes(optimizerFile, original[..(original.Length / 2)]);
        var truncated = Assert.Throws<CheckpointException>(() => trainer.Load(dir));
        Assert.Contains("optimizer.tensors", truncated.Message);
        Assert.Contains("truncated", truncated.Message);

        var flipped = (byte[])original.Clone();
        flipped[flipped.Length - 3] ^= 0x01;
        File.WriteAllBytes(optimizerFile, flipped);
        var corrupt = Assert.Throws<CheckpointException>(() => trainer.Load(dir));
        Assert.Contains("optimizer.tensors is corrupt", corrupt.Message);

        File.WriteAllBytes(optimizerFile, original);
        var samplerFile = Path.Combine(dir, "parts", "sampler.json");
        File.WriteAllText(samplerFile, File.ReadAllText(samplerFile).Replace('5', '6'));   // same length, other content
        var part = Assert.Throws<CheckpointException>(() => trainer.Load(dir)).Message;
        Assert.True(part.Contains("parts/sampler.json is corrupt", StringComparison.Ordinal), part);

        File.Delete(Path.Combine(dir, Checkpoint.ManifestFile));
        Assert.Contains("manifest.json is missing", Assert.Throws<CheckpointException>(() => trainer.Load(dir)).Message);
        Assert.Contains("does not exist", Assert.Throws<CheckpointException>(() => trainer.Load(Path.Combine(root, "nothing"))).Message);
    }

    [Fact]
    public void SavingIsAtomicAndDoesNotClobber()
    {
        var dir = Path.Combine(root, "atomic");
        using var trainer = new ModelTrainer(Small, AdamWConfig.Default);
        trainer.Save(dir);
        Assert.Contains("already exists", Assert.Throws<CheckpointException>(() => trainer.Save(dir)).Message);
        var (x, y) = TextBatches.Train(1).Next(2, 16);
        using (x) using (y) trainer.TrainStep(x, y, 1e-3);
        trainer.Save(dir, overwrite: true);
        Assert.Equal(1, Checkpoint.Verify(dir).Step);
        Assert.Single(Directory.GetDirectories(root));              // no .tmp- or .old- folder left

        // A save that fails half-way (here: a tensor on a disposed handle) leaves neither DIR nor a temporary.
        var failing = Path.Combine(root, "failing");
        var disposed = torch.ones(2);
        disposed.Dispose();
        Assert.Throws<CheckpointException>(() => Checkpoint.Save(failing, Small, 0, new Dictionary<string, Tensor> { ["x"] = disposed }));
        Assert.False(Directory.Exists(failing));
        Assert.Single(Directory.GetDirectories(root));

        Directory.CreateDirectory(Path.Combine(root, "atomic.tmp-deadbeef"));
        Assert.Equal(1, Checkpoint.RemoveTemporaries(root));
    }

    [Fact]
    public void EvaluatorCanLoadWeightsOnly()
    {
        var dir = Path.Combine(root, "weights");
        using var trainer = new ModelTrainer(Small, AdamWConfig.Default);
        var (x, y) = TextBatches.Train(1).Next(2, 16);
        using (x) using (y)
        {
            trainer.TrainStep(x, y, 1e-3);
            trainer.Save(dir);
            using var evaluator = new Gpt(Small, seed: 999);
            Checkpoint.LoadWeights(dir, evaluator);
            using var expected = trainer.Model.Loss(x, y);
            using var actual = evaluator.Loss(x, y);
            Assert.Equal(expected.item<float>(), actual.item<float>());
        }
    }
}
