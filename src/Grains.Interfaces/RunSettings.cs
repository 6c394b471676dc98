namespace Streaming.Grains;

/// <summary>
/// How one run trains, where it differs from the silo's defaults: its model (a named shape and/or explicit
/// dimensions), batch, micro-batch and precision, its schedule (kind, rates, lengths, the paper protocol's anneal
/// fraction, a single-horizon kind's horizon), replay mixing, seed, evaluation cadence, a cap on the blocks of
/// each task (compute-matched comparisons train every task for the same number of steps) and the order of each task's
/// blocks. Null fields keep the silo's value.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RunSettings
{
    /// <summary>The weight average's decay when --release needs one and --average-decay is not given: a half-life of 69 steps.</summary>
    public const double DefaultAverageDecay = 0.99;

    [Id(0)] public string? Schedule { get; init; }
    [Id(1)] public double? MaxLr { get; init; }
    [Id(2)] public double? ConstLr { get; init; }
    [Id(3)] public double? MinLr { get; init; }
    [Id(4)] public long? WarmupSteps { get; init; }
    [Id(5)] public long? CooldownSteps { get; init; }
    [Id(6)] public double? AnnealFraction { get; init; }
    [Id(7)] public double? ReplayFraction { get; init; }
    [Id(8)] public long? Seed { get; init; }

    /// <summary>`--task-steps`: train at most this many blocks (= steps) of each corpus (the run's <c>MaxStepsPerTask</c>).</summary>
    [Id(9)] public long? TaskSteps { get; init; }

    /// <summary>Single-horizon kinds (cosine, linear, inverse-sqrt, rex): the horizon in steps, warmup included.</summary>
    [Id(10)] public long? TotalSteps { get; init; }

    /// <summary>Main-trajectory steps between evaluations of the live model (0: only task ends and releases).</summary>
    [Id(11)] public int? EvaluateEvery { get; init; }

    /// <summary>A named model shape: tiny, gpt2-small or gpt2-medium (the vocabulary always follows the tokenizer).</summary>
    [Id(12)] public string? Model { get; init; }
    [Id(13)] public int? Layers { get; init; }
    [Id(14)] public int? Width { get; init; }
    [Id(15)] public int? Heads { get; init; }
    [Id(16)] public int? Context { get; init; }

    /// <summary>Tokens per optimizer step (a multiple of the context).</summary>
    [Id(17)] public int? BatchTokens { get; init; }

    /// <summary>Rows per forward/backward pass; the gradients of a step's passes accumulate (null: the whole batch at once).</summary>
    [Id(18)] public int? MicroBatchRows { get; init; }

    /// <summary>auto (bf16 on CUDA, fp32 on CPU), fp32 or bf16.</summary>
    [Id(19)] public string? Precision { get; init; }

    /// <summary>Pretrained weights to start from: a folder (or its model.safetensors) in the Hugging Face GPT-2 layout, on the silo.</summary>
    [Id(20)] public string? Init { get; init; }

    /// <summary>`--order`: shuffled (the default; seeded by the run's seed and the corpus name) or file (as stored).</summary>
    [Id(21)] public string? Order { get; init; }

    /// <summary>`--average-decay`: keep a moving average of the weights with this decay per step (null: none, unless --release
    /// needs one).</summary>
    [Id(30)] public double? AverageDecay { get; init; }

    /// <summary>`--release`: what each task end releases: anneal (the paper-protocol branch; the default), average or both.</summary>
    [Id(31)] public string? Release { get; init; }
}
