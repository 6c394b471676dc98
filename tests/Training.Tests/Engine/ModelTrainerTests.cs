using Streaming.Training.Engine;
using Streaming.Training.Model;
using Streaming.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Training.Tests.Engine;

[Collection("torch")]
public class ModelTrainerTests
{
    public ModelTrainerTests() => TextBatches.Cpu();

    const int Steps = 300;

    [Fact]
    public void LossFallsOnRealText()
    {
        var config = new GptConfig(2, 64, 4, 64, 256);
        using var trainer = new ModelTrainer(config, AdamWConfig.Default with { WeightDecay = 0.01 });
        var train = TextBatches.Train(1);
        var validation = TextBatches.Validation(2);
        var (vx, vy) = validation.Next(16, 64);
        var before = trainer.Evaluate(vx, vy);
        var first = 0f;
        for (var step = 0; step < Steps; step++)
        {
            var lr = 1.5e-3 * Math.Min(1.0, (step + 1) / 10.0);
            var (x, y) = train.Next(16, 64);
            using (x) using (y)
            {
                var loss = trainer.TrainStep(x, y, lr);
                if (step == 0) first = loss;
            }
        }
        var after = trainer.Evaluate(vx, vy);
        vx.Dispose(); vy.Dispose();
        Assert.InRange(before, 5.2f, 5.9f);                       // ~ln 256 at init
        Assert.InRange(first, 5.2f, 5.9f);
        // A byte-unigram model of English text sits near 3.0 nats; below 2.8 the model uses context.
        Assert.True(after < 2.8f, $"validation loss {before} -> {after} after {Steps} steps");
        Assert.Equal(Steps, trainer.Step);
    }

    [Theory]
    [InlineData(2, false)]   // 4 equal chunks
    [InlineData(3, true)]    // chunks of 3, 3 and 2 rows, with padded targets spread unevenly over them
    public void AccumulatedMicroBatchesMatchOneBigBatch(int microBatchRows, bool padded)
    {
        var config = new GptConfig(2, 32, 4, 16, 256);
        using var whole = new ModelTrainer(config, AdamWConfig.Default);
        using var split = new ModelTrainer(config, AdamWConfig.Default, new TrainerOptions { MicroBatchRows = microBatchRows });
        var a = TextBatches.Train(4);
        var b = TextBatches.Train(4);
        for (var step = 0; step < 5; step++)
        {
            var (x1, y1) = a.Next(8, 16);
            var (x2, y2) = b.Next(8, 16);
            if (padded)
                foreach (var y in new[] { y1, y2 })
                {
                    // A block's last row is padded: here row 1 loses 10 targets and row 7 loses 3.
                    y[1, TensorIndex.Slice(6)] = torch.tensor(Streaming.Training.Loop.BlockBatch.IgnoreIndex);
                    y[7, TensorIndex.Slice(13)] = torch.tensor(Streaming.Training.Loop.BlockBatch.IgnoreIndex);
                }
            var l1 = whole.TrainStep(x1, y1, 1e-3);
            var l2 = split.TrainStep(x2, y2, 1e-3);
            Assert.True(Math.Abs(l1 - l2) < 1e-5, $"step {step}: {l1} vs {l2}");
            foreach (var t in new[] { x1, y1, x2, y2 }) t.Dispose();
        }
        using var diff = (whole.Optimizer.FlatMaster - split.Optimizer.FlatMaster).abs().max();
        Assert.True(diff.item<float>() < 1e-5, $"weights differ by {diff.item<float>()}");
    }

    [Fact]
    public void MemoryStaysFlatOverManySteps()
    {
        using var trainer = new ModelTrainer(new GptConfig(1, 16, 2, 8, 256), AdamWConfig.Default);
        var data = TextBatches.Train(5);
        void Run(int steps)
        {
            for (var i = 0; i < steps; i++)
            {
                var (x, y) = data.Next(2, 8);
                using (x) using (y) using (var loss = trainer.TrainStepDeferred(x, y, 1e-3)) { }
            }
        }
        // The count is process-wide: let finalizers of other tests' garbage run before each reading.
        static long Live()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return torch.Tensor.TotalCount;
        }
        Run(20);
        var live = Live();
        Run(200);
        Assert.InRange(Live() - live, -5, 5);
    }

    [Fact]
    public void RejectsBadBatchesAndOtherThreads()
    {
        using var trainer = new ModelTrainer(new GptConfig(1, 16, 2, 8, 256), AdamWConfig.Default, new TrainerOptions { MicroBatchRows = 2 });
        var (x, y) = TextBatches.Train(5).Next(3, 9);
        using (x) using (y)
        {
            Assert.Contains("exceeds the model context", Assert.Throws<ArgumentException>(() => trainer.TrainStep(x, y, 1e-3)).Message);
        }
        var (x2, y2) = TextBatches.Train(5).Next(2, 8);
        trainer.TrainStep(x2, y2, 1e-3);
        Exception? error = null;
        var thread = new Thread(() => { try { trainer.TrainStep(x2, y2, 1e-3); } catch (Exception e) { error = e; } });
        thread.Start();
        thread.Join();
        Assert.IsType<InvalidOperationException>(error);
        x2.Dispose(); y2.Dispose();
    }
}
