namespace Streaming.Schedules;

/// <summary>An anneal branch planned from a fitted law: its length, the loss the law predicts at its end, and whether
/// that reaches the target asked for (a budget always "reaches").</summary>
public sealed record AnnealPlan(int Steps, double PredictedLoss, bool Reaches);

/// <summary>
/// Plans an anneal branch forked from where a schedule is now, with an <see cref="AnnealingLaw"/> fitted to the run's
/// curve: the loss a branch of N steps ends at (<see cref="ForBudget"/>), or the shortest branch whose predicted loss
/// reaches a target (<see cref="ForTarget"/>). The branch's rates are the schedule's own (its anneal shape, from the
/// fork's rate down to min), taken from a copy of the schedule, so the plan is what `anneal --steps N` would run.
/// </summary>
public static class AnnealPlanner
{
    /// <summary>The rates of an N-step branch forked from <paramref name="schedule"/> now (the schedule is not changed).</summary>
    public static IReadOnlyList<double> BranchRates(LearningRateSchedule schedule, int steps)
    {
        var copy = LearningRateSchedule.Restore(schedule.Config, schedule.Save());
        copy.RequestAnneal(steps, AnnealMode.OnDemand);
        var rates = new double[steps];
        for (var i = 0; i < steps; i++)
        {
            rates[i] = copy.LearningRate;
            copy.StepTaken();
        }
        return rates;
    }

    /// <summary>The loss the law predicts at the end of an N-step branch from <paramref name="now"/> (the areas of the
    /// main trajectory so far).</summary>
    public static AnnealPlan ForBudget(AnnealingLaw law, LearningRateAreas now, LearningRateSchedule schedule, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return new AnnealPlan(steps, Predict(law, now, schedule, steps), Reaches: true);
    }

    /// <summary>
    /// The shortest branch of at most <paramref name="maxSteps"/> whose predicted loss is at most <paramref name="target"/>;
    /// when none is, the branch with the lowest predicted loss, with <see cref="AnnealPlan.Reaches"/> false. Lengths are
    /// looked at on a geometric grid and then one by one below the first that reaches, so a long limit stays cheap.
    /// </summary>
    public static AnnealPlan ForTarget(AnnealingLaw law, LearningRateAreas now, LearningRateSchedule schedule, double target, int maxSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSteps, 1);
        var grid = new SortedSet<int> { 1, maxSteps };
        for (var n = 1.0; n < maxSteps; n *= 1.1) grid.Add((int)Math.Round(n));
        var best = new AnnealPlan(1, double.PositiveInfinity, false);
        var previous = 0;
        foreach (var steps in grid)
        {
            var loss = Predict(law, now, schedule, steps);
            if (loss <= target)
            {
                for (var shorter = previous + 1; shorter < steps; shorter++)
                    if (Predict(law, now, schedule, shorter) is var l && l <= target) return new AnnealPlan(shorter, l, true);
                return new AnnealPlan(steps, loss, true);
            }
            if (loss < best.PredictedLoss) best = new AnnealPlan(steps, loss, false);
            previous = steps;
        }
        return best;
    }

    static double Predict(AnnealingLaw law, LearningRateAreas now, LearningRateSchedule schedule, int steps) =>
        law.Predict(now.After(BranchRates(schedule, steps)));
}
