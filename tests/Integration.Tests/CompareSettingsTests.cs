using Streaming.Client;
using Streaming.Client.Compare;
using Streaming.Grains;

namespace Streaming.Integration.Tests;

/// <summary>
/// What `streaming compare` decides before anything trains: phase lengths derived from the stream when none are
/// given, refusals of lengths that hide a schedule's shape, and the paired significance of differences between seeds.
/// </summary>
public sealed class CompareSettingsTests
{
    static ComparisonSpec Spec(long stepsPerTask, long? warmup = null, long? cooldown = null, string schedules = "infinite,repeated-cosine") => new()
    {
        Corpora = [new StreamCorpus("a", Path.GetTempPath()), new StreamCorpus("b", AppContext.BaseDirectory)],   // folders that exist
        Schedules = schedules.Split(','),
        StepsPerTask = stepsPerTask,
        WarmupSteps = warmup,
        CooldownSteps = cooldown,
    };

    [Theory]
    [InlineData(40, 1, 23)]      // 1% of 40 rounds to 0: at least one step; constant rate from step 24 of 34 main steps
    [InlineData(190, 2, 112)]    // the README's stream: 1.9 -> 2 steps, constant from step 114 of 161
    [InlineData(1000, 10, 590)]  // the papers' first task of 1000 steps
    public void UnsetLengthsAreDerivedSoTheCooldownEndsWithinTheFirstTask(long steps, long warmup, long cooldown)
    {
        var spec = Spec(steps);
        Assert.Equal((warmup, true), (spec.Warmup.Steps, spec.Warmup.Derived));
        Assert.Equal((cooldown, true), (spec.Cooldown.Steps, spec.Cooldown.Derived));
        var main = steps - (long)Math.Round(0.15 * steps, MidpointRounding.AwayFromZero);
        Assert.True(warmup + cooldown <= main);
        Assert.All(spec.Runs(), run => Assert.Equal((warmup, cooldown), (run.Settings.WarmupSteps, run.Settings.CooldownSteps)));
        Assert.Contains("60% of the first task", spec.Cooldown.Source);
    }

    [Fact]
    public void GivenLengthsAreKeptAndSaidToBeGiven()
    {
        var spec = Spec(40, warmup: 3, cooldown: 10);
        Assert.Equal(new PhaseLength("warmup", 3, false, "--warmup"), spec.Warmup);
        Assert.Equal(new PhaseLength("cooldown", 10, false, "--cooldown"), spec.Cooldown);
        Assert.Equal(["warmup", "cooldown"], spec.PhaseLengths.Select(l => l.Setting));
        Assert.Equal(["warmup"], Spec(40, schedules: "repeated-cosine,cosine").PhaseLengths.Select(l => l.Setting));
    }

    [Fact]
    public void TheSilosLongCooldownOnShortTasksIsRefusedInOneLine()
    {
        // The silo's defaults (warmup 20, cooldown 150) on 40-step tasks: still cooling down at the first release.
        var error = Assert.Throws<UserError>(() => Spec(40, warmup: 20, cooldown: 150).Validate());
        Assert.Equal("the infinite schedule would reach its constant rate at step 170 (--warmup 20 + --cooldown 150), after the 34 main-trajectory " +
            "steps of its first task, so this comparison cannot show its shape: give --cooldown at most 14, or leave --warmup and --cooldown out " +
            "to derive them from the stream", error.Message);
        Spec(40, warmup: 20, cooldown: 14).Validate();
    }

    [Theory]
    [InlineData("repeated-cosine", 21L, null, "would spend more of each task warming up than after it (--warmup 21 of 40 steps)")]
    [InlineData("wsd", 35L, null, "still be warming up at its first anneal branch (--warmup 35, 34 main-trajectory steps")]
    [InlineData("infinite", 40L, 0L, "give --warmup and --cooldown that add up to at most 34")]
    public void LengthsThatHideAScheduleShapeAreRefused(string schedule, long warmup, long? cooldown, string expected)
    {
        var error = Assert.Throws<UserError>(() => Spec(40, warmup, cooldown, $"{schedule},constant").Validate());
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void InfinitePlusAverageReleasesTheAverageAtTaskEndsWithoutBranches()
    {
        var spec = Spec(40, schedules: "infinite,infinite+average,repeated-cosine");
        spec.Validate();
        var runs = spec.Runs().ToDictionary(r => r.Schedule);
        var average = runs["infinite+average"];
        Assert.Equal($"{spec.Name}.infinite-average.seed1", average.Name);
        Assert.Equal(("infinite", "average", RunSettings.DefaultAverageDecay, (double?)null),
            (average.Settings.Schedule, average.Settings.Release, average.Settings.AverageDecay, average.Settings.AnnealFraction));
        Assert.Equal((0.15, (string?)null, (double?)null), (runs["infinite"].Settings.AnnealFraction, runs["infinite"].Settings.Release, runs["infinite"].Settings.AverageDecay));
        Assert.Equal(["warmup", "cooldown"], Spec(40, schedules: "repeated-cosine,infinite+average").PhaseLengths.Select(l => l.Setting));
        Assert.Equal(0.9, (spec with { AverageDecay = 0.9 }).Runs().Single(r => r.Schedule == "infinite+average").Settings.AverageDecay);
        // Given, the decay names another comparison; left out, names stay as they were before the average existed.
        Assert.NotEqual(spec.Name, (spec with { AverageDecay = 0.9 }).Name);

        // Without a branch the main trajectory has all 40 steps of the first task to reach its constant rate, not 34.
        Spec(40, warmup: 20, cooldown: 20, schedules: "infinite+average,constant").Validate();
        Assert.Contains("after the 34 main-trajectory", Assert.Throws<UserError>(() => Spec(40, warmup: 20, cooldown: 20, schedules: "infinite,constant").Validate()).Message);

        Assert.Equal($"--schedules: unknown schedule kind 'sawtooth+average' (one of {ComparedSchedule.Names})",
            Assert.Throws<UserError>(() => Spec(40, schedules: "infinite,sawtooth+average").Validate()).Message);
        Assert.Equal("--average-decay must be in (0, 1), not 1",
            Assert.Throws<UserError>(() => (Spec(40, schedules: "infinite,infinite+average") with { AverageDecay = 1 }).Validate()).Message);
    }

    [Fact]
    public void APairedDifferenceIsMeasuredAgainstTheSpreadOfItsSeeds()
    {
        // Differences 0.10, 0.12, 0.08: mean 0.10, sd 0.02, SE 0.02/sqrt(3), t = 8.66 > 4.303 (2 degrees of freedom).
        var clear = PairedDifference.Of("average final loss", [2.10, 2.22, 2.38], [2.00, 2.10, 2.30]);
        Assert.Equal(0.10, clear.Mean, 12);
        Assert.Equal(0.02 / Math.Sqrt(3), clear.StandardError, 12);
        Assert.Equal(4.303, clear.CriticalT);
        Assert.True(clear.BeyondSeedSpread);
        Assert.Equal("average final loss +0.100 ± 0.012, t = 8.66: larger than the seed spread (|t| > 4.30)", clear.Text());

        // A mean difference as large but with seeds that disagree in sign: within the spread.
        var noisy = PairedDifference.Of("average forgetting", [0.5, -0.2, 0.0], [0.2, -0.2, -0.3]);
        Assert.False(noisy.BeyondSeedSpread);
        Assert.StartsWith("average forgetting +0.200 ± 0.100, t = 2.00: within the seed spread", noisy.Text());

        var single = PairedDifference.Of("average final loss", [2.1], [2.0]);
        Assert.Null(single.BeyondSeedSpread);
        Assert.Null(single.T);
    }
}
