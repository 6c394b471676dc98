using Streaming.Schedules;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// Drives a schedule as the trainer does (tasks, their paper-protocol anneal branches, an on-demand branch now and
/// then), a bounded number of steps per task, and checks every rate: finite and within [0, max(max-lr, const-lr)].
/// </summary>
internal static class ScheduleDriver
{
    private const int StepsPerTask = 400;

    /// <summary>A schedule built from the config and tasks, driven; or the config's one-line refusal.</summary>
    public static FuzzOutcome Run(ScheduleConfig config, long[] tasks)
    {
        LearningRateSchedule schedule;
        try
        {
            schedule = new LearningRateSchedule(SchedulePlanner.Prepare(config, tasks));
        }
        catch (ScheduleConfigException e)
        {
            FuzzRun.AssertOneLine(e.Message);
            return FuzzOutcome.Refused;
        }
        var ceiling = Math.Max(schedule.Config.MaxLr, schedule.Config.ConstLr);
        var onDemandEvery = 37 + tasks.Length; // some tasks get a branch asked for midway, as `streaming anneal` would
        foreach (var length in tasks)
        {
            schedule.TaskStarted(length);
            for (var step = 0; step < StepsPerTask && !schedule.TaskComplete; step++)
            {
                if (schedule.AnnealDue)
                {
                    schedule.RequestAnneal(checked((int)schedule.PlannedAnnealSteps!.Value), AnnealMode.PaperProtocol);
                    Branch(schedule, ceiling);
                    continue;
                }
                if (step == onDemandEvery && schedule.Config.ParsedKind.HasBranches())
                {
                    schedule.RequestAnneal(1 + step % 50, AnnealMode.OnDemand);
                    Branch(schedule, ceiling);
                }
                Check(schedule, ceiling);
                schedule.StepTaken();
            }
        }
        return FuzzOutcome.Succeeded;
    }

    private static void Branch(LearningRateSchedule schedule, double ceiling)
    {
        for (var step = 0; step < StepsPerTask && schedule.BranchSteps < schedule.BranchLength; step++)
        {
            Check(schedule, ceiling);
            schedule.StepTaken();
        }
        schedule.AnnealFinished();
    }

    private static void Check(LearningRateSchedule schedule, double ceiling)
    {
        var lr = schedule.LearningRate;
        Assert.True(double.IsFinite(lr) && lr >= 0 && lr <= ceiling,
            $"learning rate {lr} at step {schedule.StepsExecuted} of task {schedule.TaskIndex} ({schedule.Phase}) is outside [0, {ceiling}]");
    }
}
