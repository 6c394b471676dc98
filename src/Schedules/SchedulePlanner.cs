namespace Streaming.Schedules;

/// <summary>One executed optimizer step of a planned schedule (a CSV row of `streaming schedule`).</summary>
/// <param name="Step">Counts every executed step from 0, main and branch alike.</param>
/// <param name="Task">0-based task index.</param>
/// <param name="InBranch">True for the steps of an anneal branch.</param>
public sealed record ScheduleRow(long Step, int Task, SchedulePhase Phase, double LearningRate, bool InBranch);

/// <summary>
/// Expands a config and the task lengths into the sequence of executed steps, by driving a
/// <see cref="LearningRateSchedule"/> exactly as the trainer would: per task, TaskStarted(T); main steps
/// until the paper-protocol anneal is due; then the branch of A steps and AnnealFinished.
/// </summary>
public static class SchedulePlanner
{
    /// <summary>The config that a plan of these tasks runs under: single-horizon kinds get the sum of the
    /// task lengths as their horizon unless one is set. Validates the config and every task.</summary>
    public static ScheduleConfig Prepare(ScheduleConfig config, IReadOnlyList<long> taskLengths)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(taskLengths);
        if (taskLengths.Count == 0)
            throw new ScheduleConfigException("tasks", "give at least one task length");
        for (var i = 0; i < taskLengths.Count; i++)
            if (taskLengths[i] < 0) throw new ScheduleConfigException("tasks", $"task {i} has a negative length ({taskLengths[i]})");
        if (ScheduleKinds.Parse(config.Kind) is { } kind && kind.IsSingleHorizon() && config.TotalSteps is null)
            config = config with { TotalSteps = Total(taskLengths) };
        config.Validate();
        for (var i = 0; i < taskLengths.Count; i++) config.ValidateTask(i, taskLengths[i]);
        return config;
    }

    private static long Total(IReadOnlyList<long> taskLengths)
    {
        long total = 0;
        foreach (var length in taskLengths)
            if ((total += length) < 0)
                throw new ScheduleConfigException("tasks", $"the task lengths add up to more than {long.MaxValue:N0} steps");
        return total;
    }

    public static IReadOnlyList<ScheduleRow> Plan(ScheduleConfig config, IReadOnlyList<long> taskLengths)
    {
        var rows = new List<ScheduleRow>();
        var schedule = new LearningRateSchedule(Prepare(config, taskLengths));
        foreach (var length in taskLengths)
            RunTask(schedule, length, rows);
        return rows;
    }

    /// <summary>Runs one task of <paramref name="length"/> steps on <paramref name="schedule"/>, appending rows.</summary>
    public static void RunTask(LearningRateSchedule schedule, long length, List<ScheduleRow> rows)
    {
        schedule.TaskStarted(length);
        while (!schedule.TaskComplete)
        {
            if (schedule.AnnealDue)
            {
                schedule.RequestAnneal(checked((int)schedule.PlannedAnnealSteps!.Value), AnnealMode.PaperProtocol);
                while (schedule.BranchSteps < schedule.BranchLength) Emit(schedule, rows);
                schedule.AnnealFinished();
                continue;
            }
            Emit(schedule, rows);
        }
    }

    private static void Emit(LearningRateSchedule schedule, List<ScheduleRow> rows)
    {
        rows.Add(new ScheduleRow(schedule.StepsExecuted, schedule.TaskIndex, schedule.Phase, schedule.LearningRate, schedule.InBranch));
        schedule.StepTaken();
    }
}
