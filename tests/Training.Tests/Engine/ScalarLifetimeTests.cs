using Streaming.Training.Model;
using Streaming.Training.Optim;
using static TorchSharp.torch;

namespace Streaming.Training.Tests.Engine;

/// <summary>
/// TorchSharp frees a Scalar in its finalizer and hands only its native handle to libtorch, so a Scalar made for one call and
/// no longer referenced can be freed by the finalizer thread while libtorch still reads it (libtorch then fails with
/// "Expected false to be true" in Scalar::toFloat, reads a wrong number, or crashes the process). This test runs the
/// optimizer and the weight average (most of the training's scalars) while another thread collects and finalizes without pause, and require the
/// same bits as without it.
/// </summary>
[Collection("torch")]
public class ScalarLifetimeTests
{
    public ScalarLifetimeTests() => TextBatches.Cpu();

    /// <summary>Runs <paramref name="work"/> once quietly and once while another thread collects and finalizes without pause;
    /// the two results must be equal.</summary>
    static void SameUnderFinalization(Func<float[]> work)
    {
        var quiet = work();
        var stop = false;
        var collections = 0;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                collections++;
            }
        }) { IsBackground = true };
        collector.Start();
        float[] stressed;
        try { stressed = work(); }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
        }
        Assert.Equal(quiet, stressed);
        Assert.True(collections > 100, $"only {collections} collections ran beside the work");
    }

    [Fact]
    public void OptimizerStepsAndTheWeightAverageKeepTheirScalarsAlive()
    {
        // 1.6M parameters: the optimizer's scalar kernels over the flat buffers are most of the time, the window the race needs.
        SameUnderFinalization(() =>
        {
            using var model = new Gpt(new GptConfig(2, 256, 4, 16, 256), seed: 5);
            using var optimizer = new FlatAdamW(model, AdamWConfig.Default with { WeightDecay = 0.1, MaxGradNorm = 0.5 });
            using var average = new WeightAverage(optimizer.FlatMaster, 0.9);
            using var generator = new TorchSharp.torch.Generator(11);
            for (var step = 1; step <= 400; step++)
            {
                using (no_grad()) optimizer.FlatGradients.normal_(0, 0.01, generator);
                using (optimizer.ClipGradNorm(1.0)) { }
                optimizer.Step(1e-3 * step / 400);
                average.Update(optimizer.FlatMaster);
            }
            return [.. optimizer.FlatMaster.data<float>(), .. average.Flat.data<float>()];
        });
    }
}
