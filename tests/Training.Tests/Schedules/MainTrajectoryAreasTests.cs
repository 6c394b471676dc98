using Streaming.Schedules;

namespace Streaming.Training.Tests.Schedules;

/// <summary>The main trajectory's areas and fork point from its main-step count alone are those of a run driven through its
/// tasks and anneal branches.</summary>
public class MainTrajectoryAreasTests
{
    static readonly ScheduleConfig Infinite = new()
    {
        Kind = "infinite", WarmupSteps = 5, CooldownSteps = 40, AnnealFraction = 0.2, AnnealShape = "linear",
    };

    /// <summary>Drives tasks of 30 steps with their paper-protocol branches and an on-demand branch, recording the main
    /// rates and the schedule after each main step.</summary>
    static (List<double> MainRates, List<LearningRateSchedule> AfterMainStep) Drive(ScheduleConfig config)
    {
        var schedule = new LearningRateSchedule(config);
        var rates = new List<double>();
        var after = new List<LearningRateSchedule>();
        for (var task = 0; task < 4; task++)
        {
            schedule.TaskStarted(30);
            var onDemandTaken = false;
            while (!schedule.TaskComplete)
            {
                var onDemand = task == 1 && schedule.StepsInTask == 10 && !onDemandTaken;
                if (schedule.AnnealDue || onDemand)
                {
                    onDemandTaken |= onDemand;
                    schedule.RequestAnneal(schedule.AnnealDue ? (int)schedule.PlannedAnnealSteps!.Value : 7,
                        schedule.AnnealDue ? AnnealMode.PaperProtocol : AnnealMode.OnDemand);
                    while (schedule.BranchSteps < schedule.BranchLength) schedule.StepTaken();
                    schedule.AnnealFinished();
                    continue;
                }
                rates.Add(schedule.LearningRate);
                schedule.StepTaken();
                after.Add(LearningRateSchedule.Restore(config, schedule.Save()));
            }
        }
        return (rates, after);
    }

    [Fact]
    public void AreasFromTheMainStepAreThoseOfTheMainRatesOfARunWithBranches()
    {
        var (rates, _) = Drive(Infinite);
        var along = LearningRateAreas.Along(rates);
        long[] steps = [rates.Count, 1, 17, 45, 46, 80];
        var areas = MainTrajectoryAreas.At(Infinite, steps);
        for (var i = 0; i < steps.Length; i++) Assert.Equal(along[(int)steps[i] - 1], areas[i]);
        Assert.Equal(LearningRateAreas.Start(), MainTrajectoryAreas.At(Infinite, [0])[0]);
    }

    [Fact]
    public void ABranchPlannedFromTheMainStepIsTheOneTheRunWouldFork()
    {
        var (_, after) = Drive(Infinite);
        foreach (var n in new[] { 3, 20, 44, 60 })
        {
            var live = after[n - 1];
            Assert.Equal(n, live.MainSteps);
            Assert.Equal(AnnealPlanner.BranchRates(live, 12), AnnealPlanner.BranchRates(MainTrajectoryAreas.ForkAt(Infinite, n), 12));
        }
    }

    [Fact]
    public void AScheduleWithoutBranchesIsRefused()
    {
        var cosine = new ScheduleConfig { Kind = "cosine", TotalSteps = 100 };
        Assert.Contains("no anneal branches", Assert.Throws<ArgumentException>(() => MainTrajectoryAreas.At(cosine, [10])).Message);
        Assert.Contains("no anneal branches", Assert.Throws<ArgumentException>(() => MainTrajectoryAreas.ForkAt(cosine, 10)).Message);
    }
}
