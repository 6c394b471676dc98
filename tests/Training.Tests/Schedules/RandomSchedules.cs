using Streaming.Schedules;

namespace Streaming.Training.Tests.Schedules;

/// <summary>Random valid configs and task lists for property-style tests (seeded, so failures replay).</summary>
internal static class RandomSchedules
{
    private static readonly string[] Kinds = ["infinite", "repeated-cosine", "wsd", "cosine", "linear", "constant", "inverse-sqrt", "rex"];
    private static readonly string[] CooldownShapes = ["cosine", "inverse-sqrt", "linear"];
    private static readonly string[] AnnealShapes = ["exponential", "linear", "cosine", "1-sqrt"];

    public static (ScheduleConfig Config, long[] Tasks) Next(Random rng)
    {
        var kind = Kinds[rng.Next(Kinds.Length)];
        var warmup = rng.Next(0, 25);
        var tasks = Enumerable.Range(0, rng.Next(1, 5)).Select(_ => (long)rng.Next(warmup + 1, 150)).ToArray();
        var max = 1e-4 + rng.NextDouble() * 1e-2;
        var constant = max * (0.1 + 0.9 * rng.NextDouble());
        var min = constant * (0.01 + 0.99 * rng.NextDouble());
        var config = new ScheduleConfig
        {
            Kind = kind, MaxLr = max, ConstLr = constant, MinLr = min, WarmupSteps = warmup,
            CooldownSteps = rng.Next(0, 120), CooldownShape = CooldownShapes[rng.Next(CooldownShapes.Length)],
        };
        if (kind is "infinite" or "wsd")
        {
            config = config with { AnnealShape = rng.Next(5) == 0 ? null : AnnealShapes[rng.Next(AnnealShapes.Length)] };
            config = rng.Next(3) switch
            {
                0 => config with { AnnealFraction = Math.Round(rng.NextDouble() * 0.99, 3) },
                1 => config with { AnnealSteps = rng.Next(0, (int)tasks.Min() + 1) },
                _ => config,
            };
        }
        return (SchedulePlanner.Prepare(config, tasks), tasks);
    }
}
