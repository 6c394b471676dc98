using Streaming.Training.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace Streaming.Training.Model;

/// <summary>
/// A GPT-2 style decoder (nanoGPT's shape): learned positions, pre-norm blocks with a fused QKV
/// projection and causal scaled_dot_product_attention (flash / memory-efficient kernels on CUDA),
/// a 4x GELU MLP, a final LayerNorm and an output head tied to the token embedding.
/// Maps token ids [B, T] (int64) to logits [B, T, V]. Every linear runs on a 2-D [B*T, C] view
/// (TorchSharp's linear on a 3-D input with a bias is ~25% slower on CUDA; see docs/model.md).
/// </summary>
public sealed class Gpt : Module<Tensor, Tensor>
{
    readonly Embedding wte;
    readonly Embedding wpe;
    readonly ModuleList<Block> h;
    readonly LayerNorm ln_f;

    /// <summary>The shape this model was built with.</summary>
    public GptConfig Config { get; }

    /// <summary>Builds the model on the CPU with GPT-2 initialisation drawn from a private generator seeded
    /// with <paramref name="seed"/> (same seed, same weights, whatever other threads do with torch's RNG).</summary>
    public Gpt(GptConfig config, long seed = 1337) : base(nameof(Gpt))
    {
        Config = config.Validate();
        wte = Embedding(config.Vocabulary, config.Width);
        wpe = Embedding(config.Context, config.Width);
        h = new ModuleList<Block>(Enumerable.Range(0, config.Layers).Select(_ => new Block(config)).ToArray());
        ln_f = LayerNorm(config.Width);
        RegisterComponents();
        Initialize(seed);
    }

    /// <summary>Logits [B, T, V] for token ids [B, T].</summary>
    public override Tensor forward(Tensor tokens)
    {
        var (b, t) = (tokens.shape[0], tokens.shape[1]);
        using var x = Hidden(tokens);
        using var logits = Logits(x);
        return logits.view(b, t, Config.Tokens);
    }

    /// <summary>Mean next-token cross-entropy of <paramref name="tokens"/> against <paramref name="targets"/>, computed in fp32.</summary>
    public Tensor Loss(Tensor tokens, Tensor targets)
    {
        using var x = Hidden(tokens);
        using var logits = Logits(x);
        using var logits32 = logits.dtype == ScalarType.Float32 ? logits.alias() : logits.to(ScalarType.Float32);
        using var flatTargets = targets.reshape(-1);
        return F.cross_entropy(logits32, flatTargets);
    }

    /// <summary>[B*T, Tokens]: the tied head over the tokenizer's ids (padded embedding rows predict nothing).</summary>
    Tensor Logits(Tensor hidden)
    {
        if (Config.TokenVocabulary is not { } ids) return F.linear(hidden, wte.weight!);
        using var rows = wte.weight!.narrow(0, 0, ids);
        return F.linear(hidden, rows);
    }

    /// <summary>The final hidden states as a 2-D [B*T, C] tensor.</summary>
    Tensor Hidden(Tensor tokens)
    {
        var (b, t) = (tokens.shape[0], tokens.shape[1]);
        if (t > Config.Context)
            throw new ArgumentException($"sequence length {t} exceeds the model context {Config.Context}");
        using var positions = torch.arange(t, dtype: ScalarType.Int64, device: tokens.device);
        using var tok = wte.call(tokens);                      // [B, T, C]
        using var pos = wpe.call(positions);                   // [T, C], broadcast over B
        using var sum = tok.add(pos, KeptScalars.One);          // never a bare number to TorchSharp: KeptScalars
        var x = Dropout(sum.view(b * t, Config.Width));
        foreach (var block in h)
        {
            var next = block.Forward(x, b, t);
            x.Dispose();
            x = next;
        }
        using (x) return ln_f.call(x);
    }

    Tensor Dropout(Tensor x) => Config.Dropout > 0 ? F.dropout(x, Config.Dropout, training) : x;

    /// <summary>GPT-2 init: N(0, 0.02) for embeddings and linear weights, N(0, 0.02/sqrt(2L)) for the two
    /// projections that write into the residual stream, zero biases, unit LayerNorm gains.</summary>
    void Initialize(long seed)
    {
        using var _ = torch.no_grad();
        using var generator = new Generator((ulong)seed);
        var residualStd = 0.02 / Math.Sqrt(2.0 * Config.Layers);
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("c_proj.weight", StringComparison.Ordinal)) p.normal_(0, residualStd, generator);
            else if (name.StartsWith("ln", StringComparison.Ordinal) || name.Contains(".ln_", StringComparison.Ordinal))
            {
                if (name.EndsWith(".weight", StringComparison.Ordinal)) init.ones_(p); else init.zeros_(p);
            }
            else if (name.EndsWith(".bias", StringComparison.Ordinal)) init.zeros_(p);
            else p.normal_(0, 0.02, generator);
        }
    }

    /// <summary>Pre-norm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)); x is [B*T, C].</summary>
    sealed class Block : Module<Tensor, Tensor>
    {
        readonly LayerNorm ln_1, ln_2;
        readonly Linear c_attn, attn_proj, c_fc, mlp_proj;
        readonly int heads, width;
        readonly double dropout;
        readonly bool tanhGelu;

        public Block(GptConfig c) : base(nameof(Block))
        {
            (heads, width, dropout, tanhGelu) = (c.Heads, c.Width, c.Dropout, c.TanhGelu);
            ln_1 = LayerNorm(c.Width);
            c_attn = Linear(c.Width, 3 * c.Width);
            attn_proj = Linear(c.Width, c.Width);
            ln_2 = LayerNorm(c.Width);
            c_fc = Linear(c.Width, 4 * c.Width);
            mlp_proj = Linear(4 * c.Width, c.Width);
            // Names as in nanoGPT: attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj.
            register_module("ln_1", ln_1);
            register_module("attn", new Holder(("c_attn", c_attn), ("c_proj", attn_proj)));
            register_module("ln_2", ln_2);
            register_module("mlp", new Holder(("c_fc", c_fc), ("c_proj", mlp_proj)));
        }

        public override Tensor forward(Tensor x) => throw new NotSupportedException("call Forward(x, B, T)");

        public Tensor Forward(Tensor x, long b, long t)
        {
            using var scope = torch.NewDisposeScope();
            var hd = width / heads;
            var qkv = c_attn.call(ln_1.call(x));                                  // [B*T, 3C]
            var split = qkv.view(b, t, 3, heads, hd).permute(2, 0, 3, 1, 4);      // [3, B, H, T, hd]
            var y = F.scaled_dot_product_attention(split[0], split[1], split[2], is_casual: true);
            var merged = y.transpose(1, 2).reshape(b * t, width);                 // [B*T, C]
            var x1 = x.add(Drop(attn_proj.call(merged)), KeptScalars.One);
            var fc = c_fc.call(ln_2.call(x1));
            var up = tanhGelu ? F.gelu(fc, TorchSharp.Modules.GELU.Approximate.tanh) : F.gelu(fc);
            var x2 = x1.add(Drop(mlp_proj.call(up)), KeptScalars.One);
            return x2.MoveToOuterDisposeScope();
        }

        Tensor Drop(Tensor x) => dropout > 0 ? F.dropout(x, dropout, training) : x;
    }

    /// <summary>A parameter-less container so that state-dict names read attn.c_attn.weight etc.</summary>
    sealed class Holder : Module
    {
        public Holder(params (string Name, Module Module)[] children) : base(nameof(Holder))
        {
            foreach (var (name, module) in children) register_module(name, module);
        }
    }
}
