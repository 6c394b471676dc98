namespace Streaming.Training.Loop;

/// <summary>
/// When a training loss is a spike: after <see cref="Warmup"/> finite losses of the task, a loss above the reference
/// mean + max(<see cref="Deviations"/> x std, <see cref="MinRise"/> x mean), where mean and std are exponential moving
/// averages (decay <see cref="Decay"/> per step) of the task's earlier losses. The relative floor keeps a flat,
/// quiet loss from calling ordinary noise a spike.
/// </summary>
public sealed record LossSpikeRule
{
    public double Decay { get; init; } = 0.95;
    public double Deviations { get; init; } = 5;
    public double MinRise { get; init; } = 0.1;
    public int Warmup { get; init; } = 20;
}

/// <summary>A reported spike: the step, its loss and the reference it exceeded.</summary>
public sealed record LossSpike(long Step, double Loss, double Reference);

/// <summary>
/// The loss-spike detector's state (pure: no tensors, no clock), saved in every checkpoint with the loop's state so a
/// resumed run reports exactly the spikes an uninterrupted one would. A spike enters the averages clipped to the
/// reference, so one outlier does not blind the detector, while a lasting rise still moves the mean up within tens of
/// steps. A new task starts the averages afresh: a new corpus legitimately has another loss.
/// </summary>
public sealed record LossSpikes
{
    /// <summary>Finite losses seen since the task started.</summary>
    public long Observed { get; init; }
    public double Mean { get; init; }
    public double Variance { get; init; }

    /// <summary>Spikes reported in the run.</summary>
    public long Count { get; init; }
    public LossSpike? Last { get; init; }

    public static readonly LossSpikes Empty = new();

    /// <summary>The loss above which a step is a spike (infinity during the warm-up).</summary>
    public double Reference(LossSpikeRule rule) =>
        Observed < rule.Warmup ? double.PositiveInfinity : Mean + Math.Max(rule.Deviations * Math.Sqrt(Variance), rule.MinRise * Math.Abs(Mean));

    /// <summary>Takes the loss of <paramref name="step"/>; <paramref name="spike"/> is set when it is one. Non-finite losses
    /// (skipped steps, counted elsewhere) leave the state as it is.</summary>
    public LossSpikes Observe(LossSpikeRule rule, long step, double loss, out LossSpike? spike)
    {
        spike = null;
        if (!double.IsFinite(loss)) return this;
        var reference = Reference(rule);
        var next = this;
        if (loss > reference)
        {
            spike = new LossSpike(step, loss, reference);
            next = this with { Count = Count + 1, Last = spike };
        }
        var x = Math.Min(loss, reference);
        if (Observed == 0) return next with { Observed = 1, Mean = x, Variance = 0 };
        // Exponentially weighted mean and variance (West's incremental form).
        var delta = x - Mean;
        var alpha = 1 - rule.Decay;
        return next with
        {
            Observed = Observed + 1,
            Mean = Mean + alpha * delta,
            Variance = rule.Decay * (Variance + alpha * delta * delta),
        };
    }

    /// <summary>A new task: the averages start again; the run's count and last spike stay.</summary>
    public LossSpikes TaskStarted() => this with { Observed = 0, Mean = 0, Variance = 0 };
}
