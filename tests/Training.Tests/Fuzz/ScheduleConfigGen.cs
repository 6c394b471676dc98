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
        (3, Gen.OneOf(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1e-4, 0.0, -0.0, double.Epsilon, 1e-300, 1.0, 1e300, double.MaxValue)),
        (7, Gen.Double[1e-6, 1e-2]));

    public static readonly Gen<long> Steps = TextGen.Weighted(
        (3, Gen.OneOf(-1L, 0L, 1L, 2L, (long)int.MaxValue + 1, 3_000_000_000L, long.MaxValue, long.MinValue)),
        (7, Gen.Long[0, 500]));

    private static readonly Gen<string> Kind = TextGen.Weighted(
        (8, Gen.OneOf(ScheduleKinds.AllNames.ToArray())),
        (1, Gen.OneOf(" WSD ", "Cosine", "INFINITE", "repeated-cosine\t")),
        (1, Gen.OneOf("", "cosine-ish", "wsd2", "none", "∞")));

    private static readonly Gen<string?> Shape = TextGen.Weighted(
        (8, Gen.OneOf<string?>("cosine", "linear", "inverse-sqrt", "exponential", "1-sqrt", "rex")),
        (1, Gen.OneOf<string?>(null, "", "square", "COSINE")));

    private static readonly Gen<double?> AnnealFraction = TextGen.Weighted(
        (4, Gen.Const(() => (double?)null)),
        (2, Gen.OneOf<double?>(double.NaN, double.PositiveInfinity, -0.1, 0.0, 0.999999, 1.0, 1.5)),
        (4, Gen.Double[0, 0.9].Select(f => (double?)f)));

    private static readonly Gen<long?> OptionalSteps = TextGen.Weighted(
        (5, Gen.Const(() => (long?)null)),
        (5, Steps.Select(s => (long?)s)));

    public static readonly Gen<(ScheduleConfig Config, long[] Tasks)> Cases =
        from kind in Kind
        from rates in Rate.Array[3]
        from warmup in Steps
        from cooldown in Steps
        from cooldownShape in Shape
        from annealShape in Shape
        from annealFraction in AnnealFraction
        from annealSteps in OptionalSteps
        from totalSteps in OptionalSteps
        from tasks in TextGen.Weighted((8, Gen.Long[0, 300]), (2, Steps)).Array[0, 4]
        select (new ScheduleConfig
        {
            Kind = kind, MaxLr = rates[0], ConstLr = rates[1], MinLr = rates[2], WarmupSteps = warmup, CooldownSteps = cooldown,
            CooldownShape = cooldownShape ?? "cosine", AnnealShape = annealShape, AnnealFraction = annealFraction,
            AnnealSteps = annealSteps, TotalSteps = totalSteps,
        }, tasks);
}
