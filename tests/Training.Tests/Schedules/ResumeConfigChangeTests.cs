using Streaming.Schedules;

namespace Streaming.Training.Tests.Schedules;

/// <summary>Resuming under a changed config: each change is applied by its documented rule (and
/// reported in ConfigChanges) or refused with a one-line error. Never silently.</summary>
public class ResumeConfigChangeTests
{
    private static readonly ScheduleConfig Config = new()
    {
        Kind = "infinite", MaxLr = 3e-4, ConstLr = 1.65e-4, MinLr = 3e-5, WarmupSteps = 10, CooldownSteps = 40,
    };

    private static LearningRateSchedule At(ScheduleConfig config, long steps, long? taskLength = null)
    {
        var s = new LearningRateSchedule(config);
        s.TaskStarted(taskLength);
        for (var i = 0; i < steps; i++) s.StepTaken();
        return s;
    }

    [Fact]
    public void ANewConstantRateTakesEffectFromTheNextStep()
    {
        var saved = At(Config, 60).Save();
        var s = LearningRateSchedule.Restore(Config with { ConstLr = 1e-4 }, saved);
        Assert.Equal(1e-4, s.LearningRate);
        Assert.Equal(60, s.MainSteps);
        var note = Assert.Single(s.ConfigChanges);
        Assert.Contains("--const-lr: 1.65e-4 -> 1e-4, takes effect from the next step", note);
    }

    [Fact]
    public void ANewMinRateEndsTheOpenBranchThereButItKeepsItsStart()
    {
        var s0 = At(Config, 60);
        s0.RequestAnneal(4, AnnealMode.OnDemand);
        s0.StepTaken();
        var s = LearningRateSchedule.Restore(Config with { MinLr = 2e-5, AnnealShape = "linear" }, s0.Save());
        Approx.Equal(1.65e-4 * Math.Pow(2e-5 / 1.65e-4, 2 / 4.0), s.LearningRate); // still exponential
        Assert.Equal(2, s.ConfigChanges.Count);
        Assert.Contains(s.ConfigChanges, c => c.Contains("--anneal-shape: exponential -> linear") && c.Contains("keeps exponential"));
    }

    [Fact]
    public void KindCannotChange()
    {
        var e = Assert.Throws<ScheduleConfigException>(() =>
            LearningRateSchedule.Restore(Config with { Kind = "wsd" }, At(Config, 5).Save()));
        Assert.Equal("--kind: the saved schedule is infinite; it cannot resume as wsd (start a new schedule)", e.Message);
        Assert.Equal("kind", e.Field);
    }

    [Fact]
    public void CooldownChangeInsideTheCooldownIsRefused()
    {
        var e = Assert.Throws<ScheduleConfigException>(() =>
            LearningRateSchedule.Restore(Config with { CooldownSteps = 60 }, At(Config, 30).Save()));
        Assert.StartsWith("--cooldown: cannot change from 40 to 60 at main step 30", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void CooldownChangeBeforeTheCooldownAppliesFromTheNextStep()
    {
        var s = LearningRateSchedule.Restore(Config with { CooldownSteps = 60, CooldownShape = "linear" }, At(Config, 7).Save());
        Assert.Equal(2, s.ConfigChanges.Count);
        Assert.All(s.ConfigChanges, c => Assert.Contains("applies from the next step", c));
        for (var i = 7; i < 10; i++) s.StepTaken();
        Approx.Equal(3e-4 + (1.65e-4 - 3e-4) / 60, s.LearningRate);
    }

    [Fact]
    public void WarmupChangeOnTheConstantPlateauHasNoEffect()
    {
        var s = LearningRateSchedule.Restore(Config with { WarmupSteps = 20 }, At(Config, 200).Save());
        Assert.Contains("no effect on future steps", Assert.Single(s.ConfigChanges));
        Assert.Equal(1.65e-4, s.LearningRate);
    }

    [Fact]
    public void CooldownChangeThatWouldReenterTheCooldownIsRefused() =>
        Assert.Throws<ScheduleConfigException>(() =>
            LearningRateSchedule.Restore(Config with { CooldownSteps = 100 }, At(Config, 70).Save()));

    [Fact]
    public void TotalStepsOfASingleHorizonScheduleCannotChangeMidDecay()
    {
        var cosine = new ScheduleConfig { Kind = "cosine", WarmupSteps = 5, TotalSteps = 100 };
        Assert.Throws<ScheduleConfigException>(() =>
            LearningRateSchedule.Restore(cosine with { TotalSteps = 200 }, At(cosine, 50).Save()));
        var early = LearningRateSchedule.Restore(cosine with { TotalSteps = 200 }, At(cosine, 3).Save());
        Assert.Contains("--total-steps: 100 -> 200", Assert.Single(early.ConfigChanges));
    }

    [Fact]
    public void RepeatedCosineWarmupChangesOnlyAtATaskBoundary()
    {
        var rc = new ScheduleConfig { Kind = "repeated-cosine", WarmupSteps = 10 };
        var e = Assert.Throws<ScheduleConfigException>(() =>
            LearningRateSchedule.Restore(rc with { WarmupSteps = 5 }, At(rc, 20, 100).Save()));
        Assert.StartsWith("--warmup: cannot change from 10 to 5 inside task 0", e.Message);

        var done = LearningRateSchedule.Restore(rc with { WarmupSteps = 5 }, At(rc, 100, 100).Save());
        Assert.Contains("applies from the next task", Assert.Single(done.ConfigChanges));
        done.TaskStarted(50);
        Approx.Equal(3e-4 / 5, done.LearningRate);
    }

    [Fact]
    public void AnnealFractionChangeAppliesFromTheNextTask()
    {
        var paper = Config with { AnnealFraction = 0.1 };
        var s = LearningRateSchedule.Restore(paper with { AnnealFraction = 0.2 }, At(paper, 5, 100).Save());
        Assert.Contains("applies from the next task (task 0 keeps its plan)", Assert.Single(s.ConfigChanges));
        Assert.Equal(10, s.PlannedAnnealSteps);
        for (var i = 5; i < 90; i++) s.StepTaken();
        Assert.True(s.AnnealDue);
        s.RequestAnneal(10, AnnealMode.PaperProtocol);
        for (var i = 0; i < 10; i++) s.StepTaken();
        s.AnnealFinished();
        s.TaskStarted(100);
        Assert.Equal(20, s.PlannedAnnealSteps);
    }

    [Fact]
    public void InvalidCurrentConfigOrUnknownVersionIsRefused()
    {
        var saved = At(Config, 5).Save();
        Assert.Throws<ScheduleConfigException>(() => LearningRateSchedule.Restore(Config with { MinLr = -1 }, saved));
        var e = Assert.Throws<ScheduleConfigException>(() => LearningRateSchedule.Restore(Config, saved with { Version = 99 }));
        Assert.Contains("version 99", e.Message);
    }

    [Fact]
    public void UnchangedConfigReportsNothing() =>
        Assert.Empty(LearningRateSchedule.Restore(Config, At(Config, 33).Save()).ConfigChanges);
}
