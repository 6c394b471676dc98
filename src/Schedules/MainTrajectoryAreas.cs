namespace Streaming.Schedules;

/// <summary>
/// The main trajectory of a schedule with anneal branches (infinite, wsd) seen from its count n of main steps alone: its
/// rate is a function of n (<see cref="MainTrajectory.At"/>), so the learning-rate areas the annealing law reads, and the
/// schedule an anneal branch forks from, follow from n without replaying the run's tasks and branches (a branch's steps
/// never enter the main trajectory).
/// </summary>
public static class MainTrajectoryAreas
{
    /// <summary>The areas (annealing momentum decaying by <paramref name="decay"/> a step) after each of <paramref name="mainSteps"/>
    /// main steps (same order), in one pass up to the largest.</summary>
    public static IReadOnlyList<LearningRateAreas> At(ScheduleConfig config, IReadOnlyList<long> mainSteps, double decay = LearningRateAreas.DefaultDecay)
    {
        CheckHasBranches(config);
        var wanted = mainSteps.Select((n, i) => (n, i)).OrderBy(w => w.n).ToList();
        var areas = new LearningRateAreas[mainSteps.Count];
        var current = LearningRateAreas.Start(decay);
        long taken = 0;
        foreach (var (n, i) in wanted)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(n);
            for (; taken < n; taken++) current = current.After(MainTrajectory.At(config, taken, taken, null).Lr);
            areas[i] = current;
        }
        return areas;
    }

    /// <summary>The schedule on its main trajectory after <paramref name="mainSteps"/> main steps, in a task of unknown length:
    /// what an on-demand branch forks from there (<see cref="AnnealPlanner.BranchRates"/>).</summary>
    public static LearningRateSchedule ForkAt(ScheduleConfig config, long mainSteps)
    {
        CheckHasBranches(config);
        ArgumentOutOfRangeException.ThrowIfNegative(mainSteps);
        return LearningRateSchedule.Restore(config, new ScheduleState
        {
            Config = config, TaskIndex = 0, MainSteps = mainSteps, StepsInTask = mainSteps, StepsExecuted = mainSteps,
        });
    }

    static void CheckHasBranches(ScheduleConfig config)
    {
        if (!config.ParsedKind.HasBranches())
            throw new ArgumentException($"a {config.ParsedKind.Name()} schedule has no anneal branches to plan");
    }
}
