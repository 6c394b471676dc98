using Streaming.Schedules;

namespace Streaming.Training.Tests.Schedules;

/// <summary>Anneal branches: the paper protocol's task plan and on-demand releases.</summary>
public class AnnealProtocolTests
{
    private static readonly ScheduleConfig Config = new()
    {
        Kind = "infinite", MaxLr = 3e-4, ConstLr = 1.65e-4, MinLr = 3e-5, WarmupSteps = 10, CooldownSteps = 40,
        AnnealFraction = 0.15,
    };

    [Theory]
    [InlineData(0.15, 100, 15)]
    [InlineData(0.15, 90, 14)]  // 13.5 rounds half up
    [InlineData(0.15, 70, 11)]  // 10.5 rounds half up
    [InlineData(0.25, 10, 3)]   // 2.5 rounds half up
    [InlineData(0.1, 14, 1)]    // 1.4 rounds down
    [InlineData(0.1, 16, 2)]    // 1.6 rounds up
    [InlineData(0.0, 100, 0)]
    public void BranchLengthIsFractionOfTaskRoundedHalvesUp(double f, long t, long a) =>
        Assert.Equal(a, (Config with { AnnealFraction = f }).AnnealStepsFor(t));

    [Fact]
    public void PaperProtocolTrainsTMinusAOnMainThenABranchStepsPerTask()
    {
        var rows = SchedulePlanner.Plan(Config, [100, 80, 60]);
        foreach (var (task, t, a) in new[] { (0, 100, 15), (1, 80, 12), (2, 60, 9) })
        {
            var mine = rows.Where(r => r.Task == task).ToList();
            Assert.Equal(t, mine.Count);
            Assert.Equal(t - a, mine.Count(r => !r.InBranch));
            Assert.Equal(a, mine.Count(r => r.InBranch));
            Assert.True(mine.Take(t - a).All(r => !r.InBranch) && mine.Skip(t - a).All(r => r.InBranch && r.Phase == SchedulePhase.Anneal));
            // exponential from const to min, ending exactly at min
            for (var j = 0; j < a; j++)
                Approx.Equal(1.65e-4 * Math.Pow(3e-5 / 1.65e-4, (j + 1.0) / a), mine[t - a + j].LearningRate);
            Assert.Equal(3e-5, mine[^1].LearningRate);
        }
    }

    [Fact]
    public void NextTaskResumesAtConstFromTheFork()
    {
        var s = new LearningRateSchedule(Config);
        s.TaskStarted(100);
        for (var i = 0; i < 85; i++) { Assert.False(s.AnnealDue); s.StepTaken(); }
        Assert.True(s.AnnealDue);
        Assert.Equal(15, s.PlannedAnnealSteps);
        s.RequestAnneal(15, AnnealMode.PaperProtocol);
        Assert.True(s.InBranch);
        for (var i = 0; i < 15; i++) s.StepTaken();
        s.AnnealFinished();
        Assert.False(s.InBranch);
        Assert.True(s.TaskComplete);
        Assert.Equal(85, s.MainSteps);            // branch steps did not advance the main trajectory
        Assert.Equal(100, s.StepsExecuted);
        Assert.Throws<InvalidOperationException>(s.StepTaken); // the task's data went to the branch
        s.TaskStarted(80);
        Assert.Equal(1, s.TaskIndex);
        Assert.Equal(SchedulePhase.Constant, s.Phase);
        Assert.Equal(1.65e-4, s.LearningRate);
    }

    [Fact]
    public void ForkInsideTheCooldownContinuesTheMainTrajectoryWhereItWas()
    {
        // A short first task: the fork is at main step 17 (inside the cooldown); the next task continues it.
        var rows = SchedulePlanner.Plan(Config with { AnnealFraction = 0.15 }, [20, 60]);
        var main = rows.Where(r => !r.InBranch).ToList();
        var plain = SchedulePlanner.Plan(Config with { AnnealFraction = null }, [main.Count]);
        Assert.Equal(plain.Select(r => r.LearningRate), main.Select(r => r.LearningRate));
        // the branch decays from the rate of the last main step before the fork
        var branch = rows.Where(r => r.Task == 0 && r.InBranch).ToList();
        Assert.Equal(3, branch.Count);
        Approx.Equal(main[16].LearningRate * Math.Pow(3e-5 / main[16].LearningRate, 1.0 / 3), branch[0].LearningRate);
    }

    [Fact]
    public void OnDemandAnnealThenTheMainTrajectoryResumesAsIfNothingHappened()
    {
        var plain = new LearningRateSchedule(Config with { AnnealFraction = null });
        var s = new LearningRateSchedule(Config with { AnnealFraction = null, AnnealShape = "linear" });
        plain.TaskStarted(null);
        s.TaskStarted(null);
        for (var i = 0; i < 70; i++) { s.StepTaken(); plain.StepTaken(); }

        s.RequestAnneal(8, AnnealMode.OnDemand);
        Assert.Equal(SchedulePhase.Anneal, s.Phase);
        for (var j = 0; j < 8; j++)
        {
            Approx.Equal(1.65e-4 + (3e-5 - 1.65e-4) * (j + 1) / 8.0, s.LearningRate);
            s.StepTaken();
        }
        Assert.Throws<InvalidOperationException>(s.StepTaken); // the branch has run its 8 steps
        s.AnnealFinished();
        Assert.False(s.TaskComplete);
        Assert.Equal(78, s.StepsExecuted);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal((plain.Phase, plain.LearningRate), (s.Phase, s.LearningRate));
            s.StepTaken();
            plain.StepTaken();
        }
        Assert.Equal(0, s.TaskIndex);
    }

    [Fact]
    public void OnDemandDuringWarmupStartsFromTheCurrentLevelButNeverBelowMin()
    {
        var s = new LearningRateSchedule(Config with { AnnealFraction = null });
        s.TaskStarted(null);
        s.RequestAnneal(4, AnnealMode.OnDemand); // no main step yet: the level is min, the branch stays at min
        for (var j = 0; j < 4; j++) { Assert.Equal(3e-5, s.LearningRate); s.StepTaken(); }
        s.AnnealFinished();
        for (var i = 0; i < 5; i++) s.StepTaken();
        s.RequestAnneal(2, AnnealMode.OnDemand); // level 1.5e-4 (5th warmup step)
        Approx.Equal(1.5e-4 * Math.Pow(3e-5 / 1.5e-4, 0.5), s.LearningRate);
    }

    [Fact]
    public void AnnealIsOnlyForKindsWithBranchesAndOneAtATime()
    {
        var cosine = new LearningRateSchedule(new ScheduleConfig { Kind = "repeated-cosine", WarmupSteps = 1 });
        cosine.TaskStarted(10);
        Assert.Throws<InvalidOperationException>(() => cosine.RequestAnneal(3, AnnealMode.OnDemand));

        var s = new LearningRateSchedule(Config);
        Assert.Throws<InvalidOperationException>(() => s.RequestAnneal(3, AnnealMode.OnDemand)); // no task yet
        s.TaskStarted(100);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.RequestAnneal(0, AnnealMode.OnDemand));
        s.RequestAnneal(3, AnnealMode.OnDemand);
        Assert.Throws<InvalidOperationException>(() => s.RequestAnneal(3, AnnealMode.OnDemand));
        Assert.Throws<InvalidOperationException>(() => s.TaskStarted(10));
        s.AnnealFinished();
        Assert.Throws<InvalidOperationException>(s.AnnealFinished);
    }

    [Fact]
    public void AnnealStepsFixesTheBranchLength()
    {
        var rows = SchedulePlanner.Plan(Config with { AnnealFraction = null, AnnealSteps = 7 }, [30, 50]);
        Assert.Equal(new[] { 7, 7 }, rows.GroupBy(r => r.Task).Select(g => g.Count(r => r.InBranch)));
    }
}
