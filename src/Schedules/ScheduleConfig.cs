using System.Globalization;
using System.Text.Json.Serialization;

namespace Streaming.Schedules;

/// <summary>
/// What a run's learning-rate schedule is. Rates are absolute, lengths are optimizer steps. Serialized
/// (System.Text.Json) into every checkpoint inside <see cref="ScheduleState"/>, so a resume can see
/// what changed. Names of kinds and shapes are strings so that a bad value is a clear
/// <see cref="Validate"/> error rather than a deserialization failure; what is derived from them is not serialized.
/// </summary>
public sealed record ScheduleConfig
{
    // Literature defaults (Ibrahim et al. 2024; Singh et al. 2025): max 3e-4, const 0.55 max, min 0.1 max,
    // warmup 1% and cooldown to 60% of a first task of 1000 steps.
    public const double DefaultMaxLr = 3e-4;
    public const double DefaultConstLr = 1.65e-4;
    public const double DefaultMinLr = 3e-5;
    public const long DefaultWarmupSteps = 10;
    public const long DefaultCooldownSteps = 590;

    /// <summary>infinite | repeated-cosine | wsd | cosine | linear | constant | inverse-sqrt | rex.</summary>
    public string Kind { get; init; } = "infinite";

    public double MaxLr { get; init; } = DefaultMaxLr;
    public double ConstLr { get; init; } = DefaultConstLr;
    public double MinLr { get; init; } = DefaultMinLr;

    /// <summary>Linear warmup from 0 (infinite, wsd, single-horizon kinds: to max; constant: to const;
    /// repeated-cosine: to max on every task).</summary>
    public long WarmupSteps { get; init; } = DefaultWarmupSteps;

    /// <summary>Infinite only: steps from max down to const, right after the warmup.</summary>
    public long CooldownSteps { get; init; } = DefaultCooldownSteps;

    /// <summary>Infinite only: cosine | inverse-sqrt | linear.</summary>
    public string CooldownShape { get; init; } = "cosine";

    /// <summary>Shape of anneal branches: exponential | linear | cosine | 1-sqrt. Null: the kind's default
    /// (infinite: exponential, wsd: 1-sqrt).</summary>
    public string? AnnealShape { get; init; }

    /// <summary>Paper protocol: each task of T steps ends with a branch of A = f T steps (rounded to the
    /// nearest integer, halves up). In [0, 1). Null: no automatic branches.</summary>
    public double? AnnealFraction { get; init; }

    /// <summary>Paper protocol with a fixed branch length A instead of a fraction.</summary>
    public long? AnnealSteps { get; init; }

    /// <summary>Single-horizon kinds (cosine, linear, inverse-sqrt, rex): the horizon, warmup included.
    /// <see cref="SchedulePlanner"/> fills in the sum of the task lengths when it is null.</summary>
    public long? TotalSteps { get; init; }

    /// <summary>The parsed kind; call <see cref="Validate"/> first.</summary>
    [JsonIgnore]
    public ScheduleKind ParsedKind => ScheduleKinds.Parse(Kind)
        ?? throw new ScheduleConfigException("kind", $"unknown schedule kind '{Kind}'");

    [JsonIgnore]
    public Shape ParsedCooldownShape => Shapes.Parse(CooldownShape)
        ?? throw new ScheduleConfigException("cooldown-shape", $"unknown shape '{CooldownShape}'");

    /// <summary>The anneal shape in effect: the configured one or the kind's default.</summary>
    [JsonIgnore]
    public Shape EffectiveAnnealShape => AnnealShape is null
        ? (ParsedKind == ScheduleKind.Wsd ? Shape.OneMinusSqrt : Shape.Exponential)
        : Shapes.Parse(AnnealShape) ?? throw new ScheduleConfigException("anneal-shape", $"unknown shape '{AnnealShape}'");

    /// <summary>True when every task with a known length ends with an anneal branch (paper protocol).</summary>
    [JsonIgnore]
    public bool PaperProtocol => AnnealFraction is not null || AnnealSteps is not null;

    /// <summary>The paper-protocol branch length of a task of T steps: the fixed A, or f T rounded to the
    /// nearest integer with halves up. Computed in decimal so that 0.15 x 90 is exactly 13.5 (-> 14).</summary>
    public long AnnealStepsFor(long taskLength)
    {
        if (AnnealSteps is long fixedSteps) return fixedSteps;
        if (AnnealFraction is not double f) return 0;
        var exact = (decimal)f * taskLength;
        return (long)Math.Round(exact, MidpointRounding.AwayFromZero);
    }

    private static readonly Shape[] CooldownShapes = [Shape.Cosine, Shape.InverseSqrt, Shape.Linear];
    private static readonly Shape[] AnnealShapes = [Shape.Exponential, Shape.Linear, Shape.Cosine, Shape.OneMinusSqrt];

    /// <summary>Checks every rule; throws <see cref="ScheduleConfigException"/> with a one-line message
    /// naming the first broken one.</summary>
    public void Validate()
    {
        var kind = ScheduleKinds.Parse(Kind)
            ?? throw new ScheduleConfigException("kind",
                $"unknown schedule kind '{Kind}' (one of {string.Join(", ", ScheduleKinds.AllNames)})");

        Positive("max-lr", MaxLr);
        Positive("const-lr", ConstLr);
        Positive("min-lr", MinLr);
        switch (kind)
        {
            case ScheduleKind.Infinite:
                NotAbove("const-lr", ConstLr, "max-lr", MaxLr);
                NotAbove("min-lr", MinLr, "const-lr", ConstLr);
                break;
            case ScheduleKind.Constant:
                break; // only const-lr is used
            default:
                NotAbove("min-lr", MinLr, "max-lr", MaxLr);
                break;
        }

        NotNegative("warmup", WarmupSteps);
        NotNegative("cooldown", CooldownSteps);
        if (AnnealSteps is long a) NotNegative("anneal-steps", a);
        if (TotalSteps is long t) NotNegative("total-steps", t);

        OneOf("cooldown-shape", CooldownShape, CooldownShapes);
        if (AnnealShape is not null) OneOf("anneal-shape", AnnealShape, AnnealShapes);

        if (AnnealFraction is double f && !(f >= 0 && f < 1))
            throw new ScheduleConfigException("anneal-fraction", $"must be in [0, 1) ({Num(f)})");
        if (AnnealFraction is not null && AnnealSteps is not null)
            throw new ScheduleConfigException("anneal-steps", "give either --anneal-fraction or --anneal-steps, not both");
        if (!kind.HasBranches())
        {
            if (AnnealFraction is not null)
                throw new ScheduleConfigException("anneal-fraction", $"only infinite and wsd schedules have anneal branches (kind {kind.Name()})");
            if (AnnealSteps is not null)
                throw new ScheduleConfigException("anneal-steps", $"only infinite and wsd schedules have anneal branches (kind {kind.Name()})");
        }

        if (kind.IsSingleHorizon())
        {
            if (TotalSteps is not long total)
                throw new ScheduleConfigException("total-steps", $"a {kind.Name()} schedule needs its horizon (the sum of the task lengths)");
            if (total <= WarmupSteps)
                throw new ScheduleConfigException("total-steps",
                    $"a {kind.Name()} schedule needs more steps in total than --warmup ({total} <= {WarmupSteps})");
        }
    }

    /// <summary>Checks a task length against this config (repeated-cosine: longer than the warmup;
    /// paper protocol with fixed A: not shorter than A).</summary>
    public void ValidateTask(int taskIndex, long? length)
    {
        if (length is long t && t < 0)
            throw new ScheduleConfigException("tasks", $"task {taskIndex} has a negative length ({t})");
        if (ParsedKind == ScheduleKind.RepeatedCosine)
        {
            if (length is not long tl)
                throw new ScheduleConfigException("tasks", $"a repeated-cosine schedule needs the length of task {taskIndex} in advance");
            if (tl <= WarmupSteps)
                throw new ScheduleConfigException("tasks",
                    $"task {taskIndex} has {tl} steps; a repeated-cosine task must be longer than --warmup ({WarmupSteps})");
        }
        if (AnnealSteps is long a && length is long len && a > len)
            throw new ScheduleConfigException("anneal-steps", $"must not exceed the length of task {taskIndex} ({a} > {len})");
        // A branch's length is an int (RequestAnneal); a longer planned branch would overflow where the trainer asks for it.
        if (length is long taskLength && AnnealStepsFor(taskLength) is var branch && branch > int.MaxValue)
            throw new ScheduleConfigException(AnnealSteps is null ? "anneal-fraction" : "anneal-steps",
                $"task {taskIndex}'s anneal branch would take {branch} steps, more than the {int.MaxValue} a branch may");
    }

    private static string Num(double v) => NumberText.Format(v);

    private static void Positive(string field, double v)
    {
        if (!(v > 0) || !double.IsFinite(v))
            throw new ScheduleConfigException(field, $"must be a positive number ({Num(v)})");
    }

    private static void NotAbove(string field, double v, string otherField, double other)
    {
        if (v > other)
            throw new ScheduleConfigException(field, $"must not exceed --{otherField} ({Num(v)} > {Num(other)})");
    }

    private static void NotNegative(string field, long v)
    {
        if (v < 0)
            throw new ScheduleConfigException(field, $"must not be negative ({v.ToString(CultureInfo.InvariantCulture)})");
    }

    private static void OneOf(string field, string value, Shape[] allowed)
    {
        var shape = Shapes.Parse(value);
        if (shape is null || !allowed.Contains(shape.Value))
            throw new ScheduleConfigException(field,
                $"unknown shape '{value}' (one of {string.Join(", ", allowed.Select(Shapes.Name))})");
    }
}
