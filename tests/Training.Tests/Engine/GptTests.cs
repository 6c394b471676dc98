using Streaming.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Training.Tests.Engine;

[Collection("torch")]
public class GptTests
{
    static readonly GptConfig Small = new(2, 32, 4, 16, 64);

    public GptTests() => TextBatches.Cpu();

    [Fact]
    public void ForwardGivesLogitsPerPosition()
    {
        using var model = new Gpt(Small);
        using var tokens = torch.randint(0, 64, [3, 16], dtype: ScalarType.Int64);
        using var logits = model.call(tokens);
        Assert.Equal(new long[] { 3, 16, 64 }, logits.shape);
        Assert.Equal(Small.ParameterCount, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void AttentionIsCausal()
    {
        using var model = new Gpt(Small);
        using var _ = torch.no_grad();
        using var a = torch.randint(0, 64, [1, 16], dtype: ScalarType.Int64);
        using var b = a.clone();
        b[0, 10] = torch.tensor(((a[0, 10].item<long>()) + 1) % 64);
        using var la = model.call(a);
        using var lb = model.call(b);
        using var before = (la[.., ..10] - lb[.., ..10]).abs().max();
        using var after = (la[.., 10..] - lb[.., 10..]).abs().max();
        Assert.Equal(0f, before.item<float>());
        Assert.True(after.item<float>() > 0);
    }

    [Fact]
    public void SameSeedSameWeightsAndGpt2Init()
    {
        using var m1 = new Gpt(Small, seed: 7);
        using var m2 = new Gpt(Small, seed: 7);
        using var m3 = new Gpt(Small, seed: 8);
        var p1 = m1.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var p2 = m2.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var p3 = m3.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.All(p1, kv => Assert.True(kv.Value.allclose(p2[kv.Key], 0, 0)));
        Assert.False(p1["wte.weight"].allclose(p3["wte.weight"], 0, 0));
        Assert.Contains("h.0.attn.c_attn.weight", p1.Keys);
        Assert.Contains("h.1.mlp.c_proj.weight", p1.Keys);
        Assert.DoesNotContain(p1.Keys, k => k.StartsWith("lm_head", StringComparison.Ordinal)); // tied to wte
        Assert.Equal(0.02, p1["h.0.attn.c_attn.weight"].std().item<float>(), 2);
        Assert.Equal(0.02 / Math.Sqrt(4), p1["h.0.mlp.c_proj.weight"].std().item<float>(), 2);
        Assert.Equal(1f, p1["h.0.ln_1.weight"].mean().item<float>());
        Assert.Equal(0f, p1["h.0.attn.c_attn.bias"].abs().max().item<float>());
    }

    [Fact]
    public void ConfigValidatesAndRoundTripsJson()
    {
        Assert.Throws<ArgumentException>(() => new GptConfig(2, 30, 4, 16, 64).Validate());
        Assert.Throws<ArgumentException>(() => new GptConfig(0, 32, 4, 16, 64).Validate());
        var config = GptConfig.Tiny with { Dropout = 0.1 };
        var json = System.Text.Json.JsonSerializer.Serialize(config);
        Assert.Equal(config, System.Text.Json.JsonSerializer.Deserialize<GptConfig>(json));
        Assert.Equal(124_475_904, GptConfig.Gpt2Small.ParameterCount + 0 - 0); // GPT-2 small with vocab 50304 (tied head)
    }
}
