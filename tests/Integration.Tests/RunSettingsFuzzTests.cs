using CsCheck;
using Streaming.Grains;
using Streaming.Training.Tests.Fuzz;
using Xunit.Abstractions;

namespace Streaming.Integration.Tests;

/// <summary>
/// Generated run settings merged onto the silo's defaults (<see cref="RunConfiguration.From"/>, no silo): each is refused
/// with one <see cref="ArgumentException"/> line or gives a configuration that describes itself and whose schedule,
/// driven through tasks and anneal branches, yields finite rates within [0, max(max-lr, const-lr)].
/// </summary>
[Collection(FuzzCollection.Name)]
public class RunSettingsFuzzTests(ITestOutputHelper output)
{
    // Each field is mostly left to the silo's default, so that a good share of the settings get past the checks.
    private static readonly Gen<int?> Size = TextGen.Weighted(
        (14, Gen.Const(() => (int?)null)),
        (1, Gen.OneOf<int?>(-1, 0, 1, 3, int.MaxValue, int.MinValue)),
        (2, Gen.OneOf<int?>(2, 4, 8, 16, 32, 64, 128, 256, 512))); // powers of two: widths, heads and contexts that fit together

    private static readonly Gen<double?> OptionalRate = TextGen.Weighted(
        (8, Gen.Const(() => (double?)null)), (2, ScheduleConfigGen.Rate.Select(r => (double?)r)));

    private static readonly Gen<long?> OptionalSteps = TextGen.Weighted(
        (8, Gen.Const(() => (long?)null)), (2, ScheduleConfigGen.Steps.Select(s => (long?)s)));

    private static readonly Gen<RunSettings> Settings =
        from kind in Gen.OneOf<string?>(null, "infinite", "wsd", "cosine", "linear", "constant", "inverse-sqrt", "rex", "repeated-cosine", "sawtooth", "", " Cosine ")
        from rates in OptionalRate.Array[4]
        from steps in OptionalSteps.Array[4]
        from annealFraction in Gen.OneOf<double?>(null, null, null, null, null, null, 0.0, 0.25, 0.999, 1.0, -0.5, double.NaN)
        from seed in Gen.OneOf<long?>(null, 0, -1, long.MaxValue)
        from evaluateEvery in Size
        from model in Gen.OneOf<string?>(null, null, "tiny", "gpt2-small", "gpt2-medium", "huge", "")
        from sizes in Size.Array[6]
        from precision in Gen.OneOf<string?>(null, null, null, "auto", "fp32", "bf16", "fp16", "")
        from init in Gen.OneOf<string?>(null, null, null, null, null, null, "/nonexistent/model", "")
        select new RunSettings
        {
            Schedule = kind, MaxLr = rates[0], ConstLr = rates[1], MinLr = rates[2], ReplayFraction = rates[3],
            WarmupSteps = steps[0], CooldownSteps = steps[1], TaskSteps = steps[2], TotalSteps = steps[3],
            AnnealFraction = annealFraction, Seed = seed, EvaluateEvery = evaluateEvery, Model = model,
            Layers = sizes[0], Width = sizes[1], Heads = sizes[2], Context = sizes[3], BatchTokens = sizes[4], MicroBatchRows = sizes[5],
            Precision = precision, Init = init,
        };

    private static readonly Gen<long[]> Tasks = Gen.Long[0, 300].Array[1, 4];

    [Fact]
    public void Every_generated_run_setting_is_refused_in_one_line_or_gives_a_schedule_with_bounded_rates()
    {
        var defaults = new StreamingOptions();
        var run = new FuzzRun("run settings", output);
        run.Sample(Gen.Select(Settings, Tasks), c => Check(defaults, c.Item1, c.Item2), c => $"{c.Item1} with tasks [{string.Join(", ", c.Item2)}]");
        Assert.True(run.GrowthBytes < FuzzCollection.GrowthBound, $"peak working set grew by {run.GrowthBytes >> 20} MiB");
    }

    private static FuzzOutcome Check(StreamingOptions defaults, RunSettings settings, long[] tasks)
    {
        RunConfiguration configuration;
        try
        {
            configuration = RunConfiguration.From(defaults, settings);
        }
        catch (ArgumentException e)
        {
            FuzzRun.AssertOneLine(e.Message);
            return FuzzOutcome.Refused;
        }
        FuzzRun.AssertOneLine(configuration.Describe());
        Assert.True(configuration.BatchTokens % configuration.Model.Context == 0);
        // The merged schedule is valid (From checked it); tasks can still be refused (e.g. repeated-cosine's longer than warmup).
        ScheduleDriver.Run(configuration.Schedule, tasks);
        return FuzzOutcome.Succeeded;
    }
}
