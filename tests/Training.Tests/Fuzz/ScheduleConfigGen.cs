using CsCheck;
using Streaming.Schedules;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// Schedule configs with any mix of good and bad values: every kind, spelled oddly or unknown; rates that are NaN,
/// infinite, negative, zero, subnormal or huge; negative, zero and enormous lengths; unknown shapes; anneal fractions
/// and steps out of range or both given; and task lists with zero, negative and enormous lengths.
/// </summary>
internal static class ScheduleConfigGen
{
    public static readonly Gen<double> Rate = TextGen.Weighted(
        (1, Gen.OneOf(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1e-4, 0.0, -0.0, double.Epsilon, 1e-300, 1.0, 1e300, double.MaxValue)),
        (12, Gen.Double[1e-6, 1e-2]));

    public static readonly Gen<long> Steps = TextGen.Weighted(
        (1, Gen.OneOf(-1L, 0L, 1L, 2L, (long)int.MaxValue + 1, 3_000_000_000L, long.MaxValue, long.MinValue)),
        (12, Gen.Long[0, 500]));

    /// <summary>Warmup and cooldown: mostly short enough for a single-horizon kind's task list to outlast them.</summary>
    private static readonly Gen<long> ShortSteps = TextGen.Weighted((1, Steps), (6, Gen.Long[0, 30]));

    private static readonly Gen<string> Kind = TextGen.Weighted(
        (16, Gen.OneOf(ScheduleKinds.AllNames.ToArray())),
        (1, Gen.OneOf(" WSD ", "Cosine", "INFINITE", "repeated-cosine\t")),
        (1, Gen.OneOf("", "cosine-ish", "wsd2", "none", "∞")));

    private static readonly Gen<string?> Shape = TextGen.Weighted(
        (16, Gen.OneOf<string?>("cosine", "linear", "inverse-sqrt", "exponential", "1-sqrt", "rex")),
        (1, Gen.OneOf<string?>(null, "", "square", "COSINE")));

    private static readonly Gen<double?> AnnealFraction = TextGen.Weighted(
        (12, Gen.Const(() => (double?)null)),
        (1, Gen.OneOf<double?>(double.NaN, double.PositiveInfinity, -0.1, 0.0, 0.999999, 1.0, 1.5)),
        (5, Gen.Double[0, 0.9].Select(f => (double?)f)));

    private static readonly Gen<long?> OptionalSteps = TextGen.Weighted(
        (8, Gen.Const(() => (long?)null)),
        (2, Steps.Select(s => (long?)s)));

    /// <summary>Max, const and min in the order most kinds require (min &lt;= const &lt;= max), so that many configs get past validation.</summary>
    private static readonly Gen<double[]> Ordered =
        from max in Rate
        from constant in Gen.Double[0.01, 1]
        from min in Gen.Double[0.01, 1]
        select new[] { max, max * constant, max * constant * min };

    public static readonly Gen<(ScheduleConfig Config, long[] Tasks)> Cases =
        from kind in Kind
        from rates in TextGen.Weighted((3, Ordered), (1, Rate.Array[3]))
        from warmup in ShortSteps
        from cooldown in ShortSteps
        from cooldownShape in Shape
        from annealShape in Shape
        from annealFraction in AnnealFraction
        from annealSteps in OptionalSteps
        from totalSteps in OptionalSteps
        from tasks in TextGen.Weighted((12, Gen.Long[0, 300]), (1, Steps)).Array[0, 4]
        select (new ScheduleConfig
        {
            Kind = kind, MaxLr = rates[0], ConstLr = rates[1], MinLr = rates[2], WarmupSteps = warmup, CooldownSteps = cooldown,
            CooldownShape = cooldownShape ?? "cosine", AnnealShape = annealShape, AnnealFraction = annealFraction,
            AnnealSteps = annealSteps, TotalSteps = totalSteps,
        }, tasks);
}
