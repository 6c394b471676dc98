using Streaming.Training.Model;
using Streaming.Training.Optim;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Streaming.Training.Tests.Engine;

[Collection("torch")]
public class FlatAdamWTests
{
    static readonly GptConfig Small = new(2, 32, 4, 16, 256);

    public FlatAdamWTests() => TextBatches.Cpu();

    static float RelativeDifference(Tensor a, Tensor b)
    {
        using var diff = (a - b).abs().max();
        using var scale = a.abs().max();
        return diff.item<float>() / Math.Max(scale.item<float>(), 1e-30f);
    }

    [Fact]
    public void MatchesTorchSharpAdamWStepForStep()
    {
        var config = new AdamWConfig(Beta1: 0.9, Beta2: 0.95, Epsilon: 1e-8, WeightDecay: 0.1, MaxGradNorm: 0);
        using var reference = new Gpt(Small, seed: 3);
        using var flat = new Gpt(Small, seed: 3);
        var decay = reference.parameters().Where(p => p.dim() >= 2).ToList();
        var noDecay = reference.parameters().Where(p => p.dim() < 2).ToList();
        using var torchAdamW = torch.optim.AdamW(
        [
            new AdamW.ParamGroup(decay, lr: 1e-3, beta1: config.Beta1, beta2: config.Beta2, eps: config.Epsilon, weight_decay: config.WeightDecay),
            new AdamW.ParamGroup(noDecay, lr: 1e-3, beta1: config.Beta1, beta2: config.Beta2, eps: config.Epsilon, weight_decay: 0),
        ]);
        using var flatAdamW = new FlatAdamW(flat, config);
        var data = TextBatches.Train(11);
        for (var step = 0; step < 8; step++)
        {
            var lr = 1e-3 * (step + 1) / 8;                    // a changing learning rate, as from a schedule
            var (x, y) = data.Next(4, 16);
            using (x) using (y)
            {
                torchAdamW.zero_grad();
                using (var loss = reference.Loss(x, y)) loss.backward();
                foreach (var g in torchAdamW.ParamGroups) g.LearningRate = lr;
                torchAdamW.step();

                flatAdamW.ZeroGrad();
                using (var loss = flat.Loss(x, y)) loss.backward();
                flatAdamW.Step(lr);
            }
            var expected = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, p) in flat.named_parameters())
                Assert.True(RelativeDifference(expected[name], p) <= 1e-6, $"step {step}: {name} differs by {RelativeDifference(expected[name], p)}");
        }
        Assert.Equal(8, flatAdamW.Steps);
    }

    [Theory]
    [InlineData(0.05)]   // clips
    [InlineData(1e6)]    // leaves the gradient as is
    public void ClippingMatchesClipGradNorm(double maxNorm)
    {
        using var reference = new Gpt(Small, seed: 5);
        using var flat = new Gpt(Small, seed: 5);
        using var flatAdamW = new FlatAdamW(flat, AdamWConfig.Default);
        var (x, y) = TextBatches.Train(3).Next(4, 16);
        using (x) using (y)
        {
            using (var loss = reference.Loss(x, y)) loss.backward();
            using (var loss = flat.Loss(x, y)) loss.backward();
        }
        var expectedNorm = torch.nn.utils.clip_grad_norm_(reference.parameters(), maxNorm);
        using var norm = flatAdamW.ClipGradNorm(maxNorm);
        Assert.True(Math.Abs(norm.item<float>() - expectedNorm) <= 1e-5 * expectedNorm, $"norm {norm.item<float>()} vs {expectedNorm}");
        var expected = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in flat.named_parameters())
        {
            using var g = p.grad!;
            using var e = expected[name].grad!;
            Assert.True(RelativeDifference(e, g) <= 1e-6, $"{name} grad differs by {RelativeDifference(e, g)}");
        }
    }

    [Fact]
    public void ParametersAndGradientsAreViewsOfTheFlatBuffers()
    {
        using var model = new Gpt(Small);
        using var opt = new FlatAdamW(model, AdamWConfig.Default);
        Assert.Equal(Small.ParameterCount, opt.Count);
        Assert.Equal(opt.Slots.Count, model.parameters().Count());
        // Decayed (2-D and up) first, then biases and LayerNorm gains.
        var firstNoDecay = opt.Slots.ToList().FindIndex(s => !s.Decay);
        Assert.All(opt.Slots.Take(firstNoDecay), s => Assert.True(s.Shape.Length >= 2));
        Assert.All(opt.Slots.Skip(firstNoDecay), s => Assert.True(s.Shape.Length < 2));
        using (torch.no_grad())
        {
            opt.FlatMaster.fill_(0.25f);
            opt.FlatGradients.fill_(-1f);
        }
        foreach (var p in model.parameters())
        {
            using var grad = p.grad!;
            Assert.Equal(0.25f, p.mean().item<float>());
            Assert.Equal(-1f, grad.mean().item<float>());
        }
        // backward accumulates into the flat buffer in place
        opt.ZeroGrad();
        var (x, y) = TextBatches.Train(1).Next(2, 8);
        using (x) using (y) using (var loss = model.Loss(x, y)) loss.backward();
        using var flatNorm = opt.FlatGradients.norm();
        Assert.True(flatNorm.item<float>() > 0);
    }

    [Fact]
    public void Bf16ComputeKeepsFp32MasterWeights()
    {
        using var model = new Gpt(Small, seed: 9);
        using var opt = new FlatAdamW(model, AdamWConfig.Default, ScalarType.BFloat16);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        Assert.Equal(ScalarType.Float32, opt.FlatMaster.dtype);
        var data = TextBatches.Train(2);
        var losses = new List<float>();
        for (var i = 0; i < 20; i++)
        {
            var (x, y) = data.Next(8, 16);
            using (x) using (y)
            {
                opt.ZeroGrad();
                using var loss = model.Loss(x, y);
                loss.backward();
                opt.Step(3e-3);
                losses.Add(loss.item<float>());
            }
        }
        Assert.True(losses[^1] < losses[0] - 0.5, $"bf16 loss did not fall: {string.Join(", ", losses)}");
        using var master = opt.FlatMaster.to(ScalarType.BFloat16);
        foreach (var (s, p) in opt.Slots.Zip(opt.Slots.Select(s => model.named_parameters().First(n => n.name == s.Name).parameter)))
        {
            using var m = master.narrow(0, s.Offset, s.Count).view(s.Shape);
            Assert.True(m.allclose(p, 0, 0), $"{s.Name}: compute copy is not the rounded master");
        }
    }
}
