namespace Streaming.Training.Optim;

/// <summary>
/// AdamW hyper-parameters. The learning rate is not here: it is passed to every step by the schedule.
/// Weight decay is decoupled (p -= lr * wd * p) and applies to tensors with two or more dimensions only
/// (matmul weights and the embeddings); biases and LayerNorm gains never decay.
/// </summary>
/// <param name="Beta1">First-moment decay.</param>
/// <param name="Beta2">Second-moment decay.</param>
/// <param name="Epsilon">Added to the bias-corrected RMS.</param>
/// <param name="WeightDecay">Decoupled decay coefficient.</param>
/// <param name="MaxGradNorm">Clip the global gradient L2 norm to this; 0 or less disables clipping.</param>
public sealed record AdamWConfig(double Beta1 = 0.9, double Beta2 = 0.95, double Epsilon = 1e-8, double WeightDecay = 0.1, double MaxGradNorm = 1.0)
{
    /// <summary>The usual GPT pre-training defaults: betas (0.9, 0.95), weight decay 0.1, gradient clipping at norm 1.0.</summary>
    public static AdamWConfig Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> with a one-line reason when a value is out of range.</summary>
    public AdamWConfig Validate()
    {
        if (Beta1 is < 0 or >= 1) throw new ArgumentException($"AdamW beta1 must be in [0, 1), not {Beta1}");
        if (Beta2 is < 0 or >= 1) throw new ArgumentException($"AdamW beta2 must be in [0, 1), not {Beta2}");
        if (!(Epsilon >= 0)) throw new ArgumentException($"AdamW epsilon must be >= 0, not {Epsilon}");
        if (!(WeightDecay >= 0)) throw new ArgumentException($"AdamW weight decay must be >= 0, not {WeightDecay}");
        if (double.IsNaN(MaxGradNorm)) throw new ArgumentException("AdamW max gradient norm must be a number");
        return this;
    }
}
