using Streaming.Training.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Streaming.Training.Optim;

/// <summary>Where one parameter lives in the flat buffers.</summary>
/// <param name="Name">State-dict name.</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Offset">First element in the flat buffers.</param>
/// <param name="Count">Number of elements.</param>
/// <param name="Decay">Whether weight decay applies (two or more dimensions).</param>
public sealed record FlatSlot(string Name, long[] Shape, long Offset, long Count, bool Decay);

/// <summary>
/// AdamW over flat buffers. Every parameter of the module is re-pointed at a view of one flat compute
/// buffer and its gradient at a view of one flat gradient buffer, so that zeroing, the global norm,
/// clipping and the whole update are a handful of large kernels instead of ~8 per parameter.
/// <list type="bullet">
/// <item>fp32 master weights and both moments live in three flat fp32 buffers.</item>
/// <item>Compute weights (and gradients) are fp32 views of the master itself, or, for bf16 compute,
/// a bf16 flat copy refreshed with one cast kernel after each step.</item>
/// <item>Decayed tensors (two or more dimensions) come first, so decay is one kernel on a prefix.</item>
/// <item>Clipping multiplies by min(1, max/(norm+1e-6)) computed on the device: no host wait.</item>
/// </list>
/// Not thread-safe; use it from the thread that trains.
/// </summary>
public sealed class FlatAdamW : IDisposable
{
    readonly Tensor master, expAvg, expAvgSq, compute, grads, gradNorm;
    readonly long decayCount;
    readonly List<Parameter> bound = [];

    /// <summary>Hyper-parameters (may be replaced between steps, e.g. after a resume with a new setting).</summary>
    public AdamWConfig Config { get; set; }

    /// <summary>Optimizer steps taken (drives the bias corrections).</summary>
    public long Steps { get; private set; }

    /// <summary>Parameter slots in flat order.</summary>
    public IReadOnlyList<FlatSlot> Slots { get; }

    /// <summary>Total number of parameter elements.</summary>
    public long Count { get; }

    /// <summary>Compute dtype of the module's parameters and gradients.</summary>
    public ScalarType ComputeType { get; }

    /// <summary>Global L2 norm of the gradient before clipping at the last step: a 0-d fp32 tensor on the
    /// device, overwritten in place by every step. Reading it (item) waits for the device.</summary>
    public Tensor GradNorm => gradNorm;

    /// <summary>The flat gradient buffer (compute dtype); every parameter's .grad is a view into it.</summary>
    public Tensor FlatGradients => grads;

    /// <summary>The flat fp32 master weights.</summary>
    public Tensor FlatMaster => master;

    /// <summary>
    /// Takes over the parameters of <paramref name="module"/> (fp32, all on one device). With a bf16
    /// <paramref name="computeType"/> the module is converted to bf16 and its parameters become views of
    /// the bf16 flat copy; the fp32 values are kept as master weights.
    /// </summary>
    public FlatAdamW(nn.Module module, AdamWConfig config, ScalarType computeType = ScalarType.Float32)
    {
        Config = config.Validate();
        if (computeType is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
            throw new ArgumentException($"compute type must be Float32, BFloat16 or Float16, not {computeType}");
        ComputeType = computeType;
        var parameters = module.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        if (parameters.Count == 0) throw new ArgumentException("the module has no trainable parameters");
        var device = parameters[0].parameter.device;
        foreach (var (name, p) in parameters)
        {
            if (p.dtype != ScalarType.Float32) throw new ArgumentException($"parameter {name} is {p.dtype}; build the model in fp32");
            if (p.device_type != device.type || p.device_index != device.index) throw new ArgumentException($"parameter {name} is on {p.device}, others on {device}");
        }

        // Decayed tensors first, each group in module order.
        var ordered = parameters.Where(p => p.parameter.dim() >= 2).Concat(parameters.Where(p => p.parameter.dim() < 2)).ToList();
        var slots = new List<FlatSlot>();
        long offset = 0;
        foreach (var (name, p) in ordered)
        {
            slots.Add(new FlatSlot(name, p.shape.ToArray(), offset, p.numel(), p.dim() >= 2));
            offset += p.numel();
        }
        Slots = slots;
        Count = offset;
        decayCount = slots.Where(s => s.Decay).Sum(s => s.Count);

        using var _ = torch.no_grad();
        master = torch.empty(Count, ScalarType.Float32, device);
        foreach (var (slot, (_, p)) in slots.Zip(ordered))
            using (var dst = Slice(master, slot)) dst.copy_(p);
        expAvg = torch.zeros(Count, ScalarType.Float32, device);
        expAvgSq = torch.zeros(Count, ScalarType.Float32, device);
        gradNorm = torch.zeros(Array.Empty<long>(), ScalarType.Float32, device);
        compute = computeType == ScalarType.Float32 ? master.alias() : master.to(computeType);
        grads = torch.zeros(Count, computeType, device);

        if (computeType != ScalarType.Float32) module.to(computeType);
        var byName = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var slot in slots)
        {
            var p = byName[slot.Name];
            using (var view = Slice(compute, slot)) p.set_(view);
            using (var gradView = Slice(grads, slot)) p.grad = gradView;
            bound.Add(p);
        }
    }

    static Tensor Slice(Tensor flat, FlatSlot slot) => flat.narrow(0, slot.Offset, slot.Count).view(slot.Shape);

    /// <summary>Zeroes every gradient with one kernel (the gradients stay views of the flat buffer).</summary>
    public void ZeroGrad()
    {
        using var _ = torch.no_grad();
        grads.zero_();
    }

    /// <summary>The global L2 norm of the current gradient, in fp32, as a new 0-d device tensor (no host wait; a cast of a
    /// bf16 gradient lands in the caller's dispose scope).</summary>
    public Tensor GradientNorm()
    {
        using var _ = torch.no_grad();
        return grads.dtype == ScalarType.Float32 ? grads.norm() : grads.to(ScalarType.Float32).norm();
    }

    /// <summary>
    /// Clips the flat gradient in place to <paramref name="maxNorm"/> the way torch.nn.utils.clip_grad_norm_
    /// does (coefficient min(1, max/(norm+1e-6))), without a device-to-host wait. Returns the norm before
    /// clipping as a new 0-d device tensor (caller disposes). Works on the compute-dtype gradient.
    /// </summary>
    public Tensor ClipGradNorm(double maxNorm)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        using var kept = new KeptScalars();
        var norm = GradientNorm();
        grads.mul_(ClipCoefficient(norm, maxNorm, kept).to(grads.dtype));
        return norm.MoveToOuterDisposeScope();
    }

    static Tensor ClipCoefficient(Tensor norm, double maxNorm, KeptScalars kept) =>
        norm.add(kept.Of(1e-6), KeptScalars.One).reciprocal_().mul_(kept.Of(maxNorm)).clamp_max_(KeptScalars.One);

    /// <summary>
    /// One AdamW step at <paramref name="learningRate"/>: global-norm clipping (if configured), decoupled
    /// decay of the decayed prefix, moment updates, bias-corrected update of the fp32 master, and a refresh
    /// of the compute copy. Queues kernels only; nothing waits for the device.
    /// </summary>
    public void Step(double learningRate)
    {
        if (!(learningRate >= 0) || double.IsInfinity(learningRate)) throw new ArgumentException($"learning rate must be a finite number >= 0, not {learningRate}");
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        using var kept = new KeptScalars();     // every number below lives until the kernels that read it have been called
        var c = Config;
        Steps++;
        // The fp32 gradient: the buffer itself for fp32 compute, else one cast into a temporary.
        var g = grads.dtype == ScalarType.Float32 ? grads : grads.to(ScalarType.Float32);
        var norm = g.norm();
        gradNorm.copy_(norm);
        if (c.MaxGradNorm > 0) g.mul_(ClipCoefficient(norm, c.MaxGradNorm, kept));

        if (decayCount > 0 && c.WeightDecay != 0 && learningRate != 0)
            master.narrow(0, 0, decayCount).mul_(kept.Of(1 - learningRate * c.WeightDecay));
        expAvg.mul_(kept.Of(c.Beta1)).add_(g, kept.Of(1 - c.Beta1));
        expAvgSq.mul_(kept.Of(c.Beta2)).addcmul_(g, g, kept.Of(1 - c.Beta2));
        var biasCorrection1 = 1 - Math.Pow(c.Beta1, Steps);
        var biasCorrection2 = 1 - Math.Pow(c.Beta2, Steps);
        var denom = expAvgSq.sqrt().div_(kept.Of(Math.Sqrt(biasCorrection2))).add_(kept.Of(c.Epsilon), KeptScalars.One);
        master.addcdiv_(expAvg, denom, kept.Of(-learningRate / biasCorrection1));
        if (compute.dtype != ScalarType.Float32) compute.copy_(master);
    }

    /// <summary>fp32 master weights by parameter name: views into the master buffer (caller disposes the views).</summary>
    public Dictionary<string, Tensor> MasterWeights() => Named(master);

    /// <summary>A flat fp32 tensor laid out like the master (e.g. a weight average) as views by parameter name (caller disposes the views).</summary>
    public Dictionary<string, Tensor> Named(Tensor flat) => Slots.ToDictionary(s => s.Name, s => Slice(flat, s));

    /// <summary>Copies named fp32 weights into the master (and the compute copy). Every slot must be present with its shape.</summary>
    public void LoadMasterWeights(IReadOnlyDictionary<string, Tensor> weights)
    {
        using var _ = torch.no_grad();
        foreach (var slot in Slots)
        {
            if (!weights.TryGetValue(slot.Name, out var src))
                throw new ArgumentException($"weights lack parameter '{slot.Name}'");
            if (!src.shape.SequenceEqual(slot.Shape))
                throw new ArgumentException($"parameter '{slot.Name}' has shape [{string.Join(",", src.shape)}], expected [{string.Join(",", slot.Shape)}]");
            using var dst = Slice(master, slot);
            dst.copy_(src);
        }
        var extra = weights.Keys.Except(Slots.Select(s => s.Name)).FirstOrDefault();
        if (extra is not null) throw new ArgumentException($"weights hold an unknown parameter '{extra}'");
        if (compute.dtype != ScalarType.Float32) compute.copy_(master);
    }

    /// <summary>The optimizer state (moments and step) as tensors; the weights go through <see cref="MasterWeights"/>.</summary>
    public Dictionary<string, Tensor> StateDict() => new()
    {
        ["exp_avg"] = expAvg.alias(),
        ["exp_avg_sq"] = expAvgSq.alias(),
        ["step"] = torch.tensor(Steps),
    };

    /// <summary>Restores what <see cref="StateDict"/> produced.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        using var _ = torch.no_grad();
        foreach (var (name, dst) in new[] { ("exp_avg", expAvg), ("exp_avg_sq", expAvgSq) })
        {
            if (!state.TryGetValue(name, out var src)) throw new ArgumentException($"optimizer state lacks '{name}'");
            if (src.numel() != Count) throw new ArgumentException($"optimizer state '{name}' has {src.numel()} elements, the model {Count}");
            dst.copy_(src.reshape(-1));
        }
        if (!state.TryGetValue("step", out var step)) throw new ArgumentException("optimizer state lacks 'step'");
        Steps = step.item<long>();
    }

    /// <summary>Frees the flat buffers (the module's parameters point into them: dispose the module first or with it).</summary>
    public void Dispose()
    {
        foreach (var t in new[] { master, expAvg, expAvgSq, compute, grads, gradNorm }) t.Dispose();
    }
}
