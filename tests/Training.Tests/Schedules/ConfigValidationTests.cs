using Streaming.Schedules;

namespace Streaming.Training.Tests.Schedules;

/// <summary>Every bad config gives one line naming the field and the rule.</summary>
public class ConfigValidationTests
{
    private static readonly ScheduleConfig Good = new() { Kind = "infinite", WarmupSteps = 10, CooldownSteps = 40 };

    public static TheoryData<ScheduleConfig, string> BadConfigs => new()
    {
        { Good with { MaxLr = 0 }, "--max-lr: must be a positive number (0)" },
        { Good with { ConstLr = -1e-4 }, "--const-lr: must be a positive number (-1e-4)" },
        { Good with { MinLr = double.NaN }, "--min-lr: must be a positive number (NaN)" },
        { Good with { MaxLr = 1e-4 }, "--const-lr: must not exceed --max-lr (1.65e-4 > 1e-4)" },
        { Good with { MinLr = 2e-4, MaxLr = 3e-4 }, "--min-lr: must not exceed --const-lr (2e-4 > 1.65e-4)" },
        { Good with { Kind = "wsd", MinLr = 4e-4 }, "--min-lr: must not exceed --max-lr (4e-4 > 3e-4)" },
        { Good with { WarmupSteps = -1 }, "--warmup: must not be negative (-1)" },
        { Good with { CooldownSteps = -5 }, "--cooldown: must not be negative (-5)" },
        { Good with { AnnealSteps = -2 }, "--anneal-steps: must not be negative (-2)" },
        { Good with { AnnealFraction = 1.0 }, "--anneal-fraction: must be in [0, 1) (1)" },
        { Good with { AnnealFraction = -0.1 }, "--anneal-fraction: must be in [0, 1) (-0.1)" },
        { Good with { AnnealFraction = 0.1, AnnealSteps = 3 }, "--anneal-steps: give either --anneal-fraction or --anneal-steps, not both" },
        { Good with { Kind = "cosine", TotalSteps = 100, AnnealFraction = 0.1 }, "--anneal-fraction: only infinite and wsd schedules have anneal branches (kind cosine)" },
        { Good with { Kind = "repeated-cosine", AnnealSteps = 3 }, "--anneal-steps: only infinite and wsd schedules have anneal branches (kind repeated-cosine)" },
        { Good with { Kind = "triangle" }, "--kind: unknown schedule kind 'triangle' (one of infinite, repeated-cosine, wsd, cosine, linear, constant, inverse-sqrt, rex)" },
        { Good with { CooldownShape = "exponential" }, "--cooldown-shape: unknown shape 'exponential' (one of cosine, inverse-sqrt, linear)" },
        { Good with { AnnealShape = "square" }, "--anneal-shape: unknown shape 'square' (one of exponential, linear, cosine, 1-sqrt)" },
        { Good with { Kind = "cosine" }, "--total-steps: a cosine schedule needs its horizon (the sum of the task lengths)" },
        { Good with { Kind = "rex", TotalSteps = 10 }, "--total-steps: a rex schedule needs more steps in total than --warmup (10 <= 10)" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void BadConfigIsOneLineNamingFieldAndRule(ScheduleConfig config, string message)
    {
        var e = Assert.Throws<ScheduleConfigException>(config.Validate);
        Assert.Equal(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Throws<ScheduleConfigException>(() => new LearningRateSchedule(config));
    }

    [Fact]
    public void RepeatedCosineTaskMustBeLongerThanItsWarmup()
    {
        var config = new ScheduleConfig { Kind = "repeated-cosine", WarmupSteps = 10 };
        var e = Assert.Throws<ScheduleConfigException>(() => SchedulePlanner.Plan(config, [100, 10]));
        Assert.Equal("--tasks: task 1 has 10 steps; a repeated-cosine task must be longer than --warmup (10)", e.Message);
        var s = new LearningRateSchedule(config);
        Assert.Throws<ScheduleConfigException>(() => s.TaskStarted(null)); // needs the length in advance
    }

    [Fact]
    public void TaskListsAreChecked()
    {
        Assert.Equal("--tasks: task 1 has a negative length (-3)",
            Assert.Throws<ScheduleConfigException>(() => SchedulePlanner.Plan(Good, [10, -3])).Message);
        Assert.Equal("--tasks: give at least one task length",
            Assert.Throws<ScheduleConfigException>(() => SchedulePlanner.Plan(Good, [])).Message);
        Assert.Equal("--anneal-steps: must not exceed the length of task 1 (8 > 5)",
            Assert.Throws<ScheduleConfigException>(() => SchedulePlanner.Plan(Good with { AnnealSteps = 8 }, [10, 5])).Message);
    }

    [Fact]
    public void EdgeValuesAreAccepted()
    {
        (Good with { AnnealFraction = 0 }).Validate();
        (Good with { MinLr = 1.65e-4, ConstLr = 1.65e-4, MaxLr = 1.65e-4 }).Validate();
        (Good with { Kind = "constant", ConstLr = 1 }).Validate(); // constant uses only const-lr
        (Good with { Kind = "wsd", ConstLr = 1 }).Validate();      // wsd ignores const-lr
        (Good with { Kind = " Infinite " }).Validate();
    }

    [Fact]
    public void ConfigSurvivesJson()
    {
        var config = Good with { AnnealShape = "1-sqrt", AnnealFraction = 0.15 };
        var json = System.Text.Json.JsonSerializer.Serialize(config, ScheduleState.JsonOptions);
        Assert.Equal(config, System.Text.Json.JsonSerializer.Deserialize<ScheduleConfig>(json, ScheduleState.JsonOptions));
    }
}
