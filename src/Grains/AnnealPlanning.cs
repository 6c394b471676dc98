using Streaming.Schedules;

namespace Streaming.Grains;

/// <summary>
/// Plans an on-demand anneal from a run's own validation curve (docs/schedules.md, "Planning an anneal from the loss curve"):
/// the points are the evaluations of the main trajectory in the current task, each at the learning-rate areas of its main
/// step, with its loss on the task's corpus; the annealing law fitted to them predicts what a branch forked now ends at.
/// Recomputed from the evaluator's persisted evaluations whenever asked, so it holds no state of its own.
/// </summary>
static class AnnealPlanning
{
    /// <summary>What the run is asked to plan, where it stands, and how long a branch may be (<paramref name="limit"/>, and
    /// whether that limit is the blocks left to train).</summary>
    public static PlannedAnneal Plan(string run, ScheduleConfig schedule, int evaluateEvery, EvaluationReport evaluations, string task,
        long mainSteps, AnnealPlanRequest request, int limit, bool limitIsBlocksLeft)
    {
        var curve = Curve(evaluations, task);
        if (curve.Count < AnnealingLaw.MinimumPoints)
            throw new InvalidOperationException($"run '{run}' has {curve.Count} evaluation{(curve.Count == 1 ? "" : "s")} of its main trajectory on {task} so far; " +
                $"fitting the annealing law needs at least {AnnealingLaw.MinimumPoints} (one every {evaluateEvery} main steps" +
                (evaluations.Pending > 0 ? $", {evaluations.Pending} waiting for the evaluator" : "") + "): train longer, or create the run with a smaller --evaluate-every");
        var fits = MomentumDecays.Select(decay => FitWith(schedule, curve, mainSteps, decay)).OfType<(AnnealingFit Fit, LearningRateAreas Now)>().ToList();
        if (fits.Count == 0)
            throw new InvalidOperationException($"run '{run}': the learning-rate areas of its {curve.Count} evaluations on {task} are too alike to fit the annealing law");
        // The best fit among those that say lowering the rate helps (C > 0); when none does, the best, whose plan then says an
        // anneal gains nothing. Without a drop of the rate in the curve the law cannot say what annealing gains at all.
        var (fit, now) = fits.Where(f => f.Fit.KnowsAnnealing && f.Fit.Law.C > 0).DefaultIfEmpty(fits.MinBy(f => f.Fit.Error)).MinBy(f => f.Fit.Error);
        if (!fit.KnowsAnnealing)
            throw new InvalidOperationException($"run '{run}': its {curve.Count} evaluations on {task} never saw the learning rate come down, so the " +
                "annealing law cannot tell what an anneal gains (the curve needs steps where the rate fell, such as the cooldown): use --steps");
        var fork = MainTrajectoryAreas.ForkAt(schedule, mainSteps);
        AnnealPlan plan;
        if (request.Budget is { } budget) plan = AnnealPlanner.ForBudget(fit.Law, now, fork, budget);
        else
        {
            var target = request.TargetLoss!.Value;
            plan = AnnealPlanner.ForTarget(fit.Law, now, fork, target, limit);
            if (!plan.Reaches)
                throw new InvalidOperationException($"run '{run}': by the law fitted to its curve no anneal branch of at most {limit} steps" +
                    (limitIsBlocksLeft ? " (the blocks left to train)" : "") + $" reaches a loss of {target:G4} on {task}; " +
                    $"the best, {plan.Steps} steps, is predicted to end at {plan.PredictedLoss:F4}");
        }
        return new PlannedAnneal(plan.Steps, plan.PredictedLoss, task, curve.Count, fit.Error, mainSteps, Ticket: null, MomentumDecay: now.Decay);
    }

    /// <summary>The decays of the annealing momentum the fit chooses among by its error: Tissue et al.'s 0.999 (a drop pays off
    /// over about a thousand steps) suits runs of tens of thousands of steps; a curve of a few hundred needs a shorter memory,
    /// or the annealing area grows almost in step with the forward area and the two cannot be told apart.</summary>
    static readonly double[] MomentumDecays = [0.9, 0.95, 0.98, 0.99, 0.995, LearningRateAreas.DefaultDecay];

    /// <summary>The law fitted to <paramref name="curve"/> with the momentum decaying by <paramref name="decay"/>, and the areas at
    /// <paramref name="mainSteps"/>; null when the points' areas are too alike to fit.</summary>
    static (AnnealingFit Fit, LearningRateAreas Now)? FitWith(ScheduleConfig schedule, List<(long MainStep, double Loss)> curve, long mainSteps, double decay)
    {
        var areas = MainTrajectoryAreas.At(schedule, [.. curve.Select(p => p.MainStep), mainSteps], decay);
        try
        {
            return (AnnealingLaw.Fit([.. curve.Select((p, i) => (areas[i], p.Loss))]), areas[^1]);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The main trajectory's evaluated losses on <paramref name="task"/>'s corpus while it was the current task, by main
    /// step (snapshots from before main steps were recorded are left out).</summary>
    static List<(long MainStep, double Loss)> Curve(EvaluationReport evaluations, string task) =>
    [
        .. evaluations.Main
            .Where(e => e.Error is null && e.Snapshot.Task == task && e.Snapshot.MainStep is > 0)
            .Select(e => (MainStep: e.Snapshot.MainStep!.Value, Loss: e.Loss.TryGetValue(task, out var loss) ? loss : double.NaN))
            .Where(p => double.IsFinite(p.Loss))
            .OrderBy(p => p.MainStep),
    ];
}
