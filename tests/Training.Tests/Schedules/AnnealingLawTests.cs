using Streaming.Schedules;

namespace Streaming.Training.Tests.Schedules;

/// <summary>The annealing law's fit recovers known parameters from synthetic curves, and the planner's lengths are the
/// shortest that reach a target.</summary>
public class AnnealingLawTests
{
    static readonly AnnealingLaw Truth = new(L0: 2.0, A: 0.5, Alpha: 0.4, C: 1.5);

    /// <summary>An infinite schedule (warmup, cosine cooldown to const, constant) driven for <paramref name="steps"/> main steps.</summary>
    static (LearningRateSchedule Schedule, IReadOnlyList<double> Rates) Drive(ScheduleConfig config, int steps)
    {
        var schedule = new LearningRateSchedule(config);
        schedule.TaskStarted(100_000);
        var rates = new List<double>();
        for (var i = 0; i < steps; i++)
        {
            rates.Add(schedule.LearningRate);
            schedule.StepTaken();
        }
        return (schedule, rates);
    }

    static readonly ScheduleConfig Infinite = new() { Kind = "infinite", WarmupSteps = 10, CooldownSteps = 590 };

    /// <summary>The law's losses every 50 steps along <paramref name="rates"/>, plus Gaussian noise of <paramref name="noise"/>.</summary>
    static List<(LearningRateAreas, double)> Curve(IReadOnlyList<double> rates, double noise, int seed = 7)
    {
        var random = new Random(seed);
        var areas = LearningRateAreas.Along(rates);
        return [.. Enumerable.Range(1, rates.Count / 50).Select(k => areas[k * 50 - 1]).Select(a =>
        {
            var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            return (a, Truth.Predict(a) + noise * gaussian);
        })];
    }

    [Fact]
    public void AnExactCurveGivesBackTheParametersItWasMadeWith()
    {
        var (_, rates) = Drive(Infinite, 3000);
        var fit = AnnealingLaw.Fit(Curve(rates, noise: 0));
        Assert.True(fit.KnowsAnnealing);
        Assert.Equal(Truth.L0, fit.Law.L0, 3);
        Assert.Equal(Truth.A, fit.Law.A, 3);
        Assert.Equal(Truth.Alpha, fit.Law.Alpha, 3);
        Assert.Equal(Truth.C, fit.Law.C, 2);
        Assert.True(fit.Error < 1e-6, $"error {fit.Error}");
    }

    [Fact]
    public void ANoisyCurvePredictsAnAnnealBranchItNeverSaw()
    {
        var (schedule, rates) = Drive(Infinite, 3000);
        var fit = AnnealingLaw.Fit(Curve(rates, noise: 0.002));
        var now = LearningRateAreas.Start().After(rates);
        foreach (var steps in new[] { 50, 200, 600 })
        {
            var truth = Truth.Predict(now.After(AnnealPlanner.BranchRates(schedule, steps)));
            var planned = AnnealPlanner.ForBudget(fit.Law, now, schedule, steps);
            Assert.Equal(steps, planned.Steps);
            Assert.True(Math.Abs(planned.PredictedLoss - truth) < 0.01, $"{steps} steps: predicted {planned.PredictedLoss}, true {truth}");
        }
        // Annealing helps, and more of it helps more on this horizon.
        var atFork = Truth.Predict(now);
        Assert.True(AnnealPlanner.ForBudget(fit.Law, now, schedule, 200).PredictedLoss < atFork);
    }

    [Fact]
    public void ACurveThatNeverAnnealedCannotSayWhatAnnealingGains()
    {
        var (_, rates) = Drive(new ScheduleConfig { Kind = "constant", WarmupSteps = 0 }, 2000);
        var fit = AnnealingLaw.Fit(Curve(rates, noise: 0));
        Assert.False(fit.KnowsAnnealing);
        Assert.Equal(0, fit.Law.C);
        Assert.Equal(Truth.Alpha, fit.Law.Alpha, 3);
    }

    [Fact]
    public void ATargetGetsTheShortestBranchThatReachesItAndAnUnreachableOneSaysSo()
    {
        var (schedule, rates) = Drive(Infinite, 3000);
        var now = LearningRateAreas.Start().After(rates);
        double At(int steps) => Truth.Predict(now.After(AnnealPlanner.BranchRates(schedule, steps)));
        var target = At(137) + 1e-9;
        var plan = AnnealPlanner.ForTarget(Truth, now, schedule, target, maxSteps: 2000);
        Assert.True(plan.Reaches);
        Assert.True(plan.PredictedLoss <= target);
        Assert.True(At(plan.Steps - 1) > target, $"{plan.Steps - 1} steps reach {target} too");

        var unreachable = AnnealPlanner.ForTarget(Truth, now, schedule, target: 0.5, maxSteps: 300);
        Assert.False(unreachable.Reaches);
        Assert.InRange(unreachable.Steps, 1, 300);
        Assert.True(unreachable.PredictedLoss < Truth.Predict(now));
    }

    [Fact]
    public void TooFewPointsOrANonFiniteLossIsOneClearError()
    {
        var (_, rates) = Drive(Infinite, 200);
        var curve = Curve(rates, noise: 0);
        Assert.Contains("at least 4", Assert.Throws<ArgumentException>(() => AnnealingLaw.Fit(curve.Take(3).ToList())).Message);
        curve[1] = (curve[1].Item1, double.NaN);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => AnnealingLaw.Fit(curve)).Message);
    }
}
