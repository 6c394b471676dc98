using Streaming.Training.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Training.Optim;

/// <summary>
/// An exponential moving average of the flat fp32 master weights, on their device (Meterez et al. 2026: on a
/// constant learning rate, an average of recent weights comes close to an annealed model at no extra step).
/// Bias-corrected like Adam's moments: after k updates with weights w_1..w_k it holds
/// sum_i d^(k-i) w_i (1 - d) / (1 - d^k), so an early release is not pulled towards the initial weights.
/// Each update is one fused lerp_ over the flat buffer. Costs one more fp32 copy of the weights.
/// Not thread-safe; use it from the thread that trains.
/// </summary>
public sealed class WeightAverage : IDisposable
{
    readonly Tensor average;

    /// <summary>The decay d per step, in (0, 1): the weights of n steps ago count d^n (half-life ln 0.5 / ln d steps).</summary>
    public double Decay { get; }

    /// <summary>Updates since the average started (0: it holds the weights it started from).</summary>
    public long Updates { get; private set; }

    /// <summary>The flat fp32 average, laid out like the master weights.</summary>
    public Tensor Flat => average;

    /// <summary>Starts an average of <paramref name="master"/> (a flat fp32 tensor) with decay <paramref name="decay"/>.</summary>
    public WeightAverage(Tensor master, double decay)
    {
        Decay = CheckDecay(decay);
        using var _ = torch.no_grad();
        average = master.detach().clone();
    }

    /// <summary>The decay if it is in (0, 1); otherwise an <see cref="ArgumentException"/> with one line.</summary>
    public static double CheckDecay(double decay) =>
        decay > 0 && decay < 1 ? decay : throw new ArgumentException($"average decay must be in (0, 1), not {decay}");

    /// <summary>Moves the average towards the weights after an optimizer step: avg += (w - avg) (1 - d) / (1 - d^k).</summary>
    public void Update(Tensor master)
    {
        Updates++;
        using var _ = torch.no_grad();
        using var kept = new KeptScalars();
        average.lerp_(master, kept.Tensor((1 - Decay) / (1 - Math.Pow(Decay, Updates))));
    }

    /// <summary>Starts again from <paramref name="master"/> (e.g. a checkpoint saved without an average).</summary>
    public void Restart(Tensor master)
    {
        using var _ = torch.no_grad();
        average.copy_(master);
        Updates = 0;
    }

    /// <summary>The average and its update count as tensors, for a checkpoint.</summary>
    public Dictionary<string, Tensor> StateDict() => new()
    {
        ["average"] = average.alias(),
        ["updates"] = torch.tensor(Updates),
    };

    /// <summary>Restores what <see cref="StateDict"/> produced, exactly.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        if (!state.TryGetValue("average", out var saved)) throw new ArgumentException("average state lacks 'average'");
        if (saved.numel() != average.numel()) throw new ArgumentException($"the average has {saved.numel()} elements, the model {average.numel()}");
        if (!state.TryGetValue("updates", out var updates)) throw new ArgumentException("average state lacks 'updates'");
        using var _ = torch.no_grad();
        average.copy_(saved.reshape(-1));
        Updates = updates.item<long>();
    }

    public void Dispose() => average.Dispose();
}
