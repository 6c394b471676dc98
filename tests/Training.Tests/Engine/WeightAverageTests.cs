using Streaming.Training.Checkpoints;
using Streaming.Training.Engine;
using Streaming.Training.Model;
using Streaming.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Training.Tests.Engine;

/// <summary>The moving average of the weights a trainer keeps: its maths, which steps move it, and its checkpoints.</summary>
[Collection("torch")]
public sealed class WeightAverageTests : IDisposable
{
    static readonly GptConfig Config = new(1, 16, 2, 8, 256);
    readonly string folder = Directory.CreateTempSubdirectory("streaming-average-").FullName;

    public WeightAverageTests() => TextBatches.Cpu();

    [Fact]
    public void AfterKStepsTheAverageIsTheBiasCorrectedClosedForm()
    {
        const double decay = 0.8;
        const int k = 6;
        using var trainer = new ModelTrainer(Config, AdamWConfig.Default, new TrainerOptions { AverageDecay = decay });
        var batches = TextBatches.Train(3);
        var weights = new List<float[]>();
        for (var step = 0; step < k; step++)
        {
            Train(trainer, batches, 1e-2);
            weights.Add(Flat(trainer.Optimizer.FlatMaster));
            // The first update is the weights themselves: the start does not pull the average back.
            if (step == 0) Assert.Equal(weights[0], Flat(trainer.Average!.Flat));
        }

        // sum_i d^(k-i) (1 - d) w_i / (1 - d^k), in double precision.
        var expected = new double[weights[0].Length];
        for (var i = 1; i <= k; i++)
            for (var j = 0; j < expected.Length; j++)
                expected[j] += Math.Pow(decay, k - i) * (1 - decay) / (1 - Math.Pow(decay, k)) * weights[i - 1][j];
        var actual = Flat(trainer.Average!.Flat);
        Assert.Equal(k, trainer.Average.Updates);
        for (var j = 0; j < expected.Length; j++) Assert.True(Math.Abs(expected[j] - actual[j]) < 1e-5, $"element {j}: {actual[j]} != {expected[j]}");
        // Not simply the last weights.
        Assert.NotEqual(weights[^1], actual);
    }

    [Fact]
    public void AStepSkippedForANonFiniteLossLeavesTheAverageAsItWas()
    {
        using var trainer = new ModelTrainer(Config, AdamWConfig.Default, new TrainerOptions { AverageDecay = 0.9 });
        var batches = TextBatches.Train(5);
        var skipped = 0;
        for (var step = 0; step < 8; step++)
        {
            var before = Flat(trainer.Average!.Flat);
            var (x, y) = batches.Next(2, 8);
            using (x) using (y)
            {
                // A rate of 1e30 overflows the weights within a few steps: later losses are not finite.
                var (_, wasSkipped) = trainer.TrainStepUnlessNonFinite(x, y, 1e30);
                if (!wasSkipped) continue;
                skipped++;
                Assert.Equal(before, Flat(trainer.Average.Flat));
            }
        }
        Assert.True(skipped > 0, "no step was skipped");
        Assert.Equal(trainer.Step, trainer.Average!.Updates);
    }

    [Fact]
    public void ACheckpointRestoresTheAverageBitForBit()
    {
        var options = new TrainerOptions { AverageDecay = 0.95 };
        using var straight = new ModelTrainer(Config, AdamWConfig.Default, options);
        using var stopped = new ModelTrainer(Config, AdamWConfig.Default, options);
        var a = TextBatches.Train(7);
        var b = TextBatches.Train(7);
        for (var step = 0; step < 3; step++)
        {
            Train(straight, a, 1e-2);
            Train(stopped, b, 1e-2);
        }
        var checkpoint = Path.Combine(folder, "step-3");
        var manifest = stopped.Save(checkpoint);
        Assert.Contains(Checkpoint.AverageFile, manifest.Files.Keys);

        using var resumed = new ModelTrainer(Config, AdamWConfig.Default, options with { Seed = 99 });
        Assert.NotEqual(Flat(straight.Average!.Flat), Flat(resumed.Average!.Flat));
        resumed.Load(checkpoint);
        Assert.Equal(3, resumed.Average.Updates);
        for (var step = 0; step < 3; step++)
        {
            Train(straight, a, 1e-2);
            Train(resumed, b, 1e-2);
        }
        Assert.Equal(Flat(straight.Average.Flat), Flat(resumed.Average.Flat));
        Assert.Equal(Flat(straight.Optimizer.FlatMaster), Flat(resumed.Optimizer.FlatMaster));
    }

    [Fact]
    public void ACheckpointWithoutAnAverageStartsOneFromItsWeightsAndATrainerWithoutOneIgnoresIt()
    {
        using var plain = new ModelTrainer(Config, AdamWConfig.Default);
        var batches = TextBatches.Train(9);
        Train(plain, batches, 1e-2);
        var old = Path.Combine(folder, "old");
        Assert.DoesNotContain(Checkpoint.AverageFile, plain.Save(old).Files.Keys);
        Assert.Null(plain.Average);

        using var averaging = new ModelTrainer(Config, AdamWConfig.Default, new TrainerOptions { AverageDecay = 0.9 });
        Train(averaging, batches, 1e-2);
        averaging.Load(old);
        Assert.Equal(0, averaging.Average!.Updates);
        Assert.Equal(Flat(plain.Optimizer.FlatMaster), Flat(averaging.Average.Flat));

        var withAverage = Path.Combine(folder, "new");
        averaging.Save(withAverage);
        plain.Load(withAverage);
        Assert.Equal(Flat(averaging.Optimizer.FlatMaster), Flat(plain.Optimizer.FlatMaster));
    }

    [Fact]
    public void AnAverageReleaseHoldsTheAverageAsItsWeights()
    {
        using var trainer = new ModelTrainer(Config, AdamWConfig.Default, new TrainerOptions { AverageDecay = 0.9 });
        var batches = TextBatches.Train(11);
        for (var step = 0; step < 4; step++) Train(trainer, batches, 1e-2);
        var release = Path.Combine(folder, "release");
        trainer.SaveAverage(release);

        var (_, weights) = Checkpoint.ReadWeights(release);
        var expected = trainer.Optimizer.Named(trainer.Average!.Flat);
        foreach (var (name, tensor) in expected) Assert.Equal(Flat(tensor), Flat(weights[name]));
        foreach (var t in weights.Values.Concat(expected.Values)) t.Dispose();
        // An evaluator loads it like any release: the optimizer state is there.
        using var evaluator = new ModelTrainer(Config, AdamWConfig.Default);
        evaluator.Load(release);
        Assert.Equal(Flat(trainer.Average.Flat), Flat(evaluator.Optimizer.FlatMaster));

        using var plain = new ModelTrainer(Config, AdamWConfig.Default);
        Assert.Throws<InvalidOperationException>(() => plain.SaveAverage(Path.Combine(folder, "none")));
    }

    [Fact]
    public void ADecayOutsideZeroToOneIsRefused()
    {
        foreach (var decay in new[] { 0.0, 1.0, -0.5, double.NaN })
            Assert.Throws<ArgumentException>(() => new ModelTrainer(Config, AdamWConfig.Default, new TrainerOptions { AverageDecay = decay }));
    }

    static void Train(ModelTrainer trainer, TextBatches batches, double learningRate)
    {
        var (x, y) = batches.Next(2, 8);
        using (x) using (y) trainer.TrainStep(x, y, learningRate);
    }

    static float[] Flat(Tensor t) => t.detach().cpu().reshape(-1).data<float>().ToArray();

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
