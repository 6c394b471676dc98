namespace Streaming.Schedules;

/// <summary>
/// The areas of a learning-rate history that the annealing scaling law reads (Tissue et al. 2024, "Scaling Law with
/// Learning Rate Annealing", arXiv 2408.11029): <see cref="Forward"/> S1 = sum of the rates so far (how far training
/// has gone), <see cref="Annealing"/> S2 = sum over steps of the momentum m_i = lambda m_(i-1) + (eta_(i-1) - eta_i)
/// (how much, and how lately, the rate came down). Immutable; <see cref="After"/> adds one step.
/// </summary>
public readonly record struct LearningRateAreas(double Forward, double Annealing, double Momentum, double LastRate, double Decay)
{
    /// <summary>The paper's momentum decay: a drop in the rate keeps paying off over about a thousand steps.</summary>
    public const double DefaultDecay = 0.999;

    /// <summary>Before the first step (the first rate counts as no drop).</summary>
    public static LearningRateAreas Start(double decay = DefaultDecay) => new(0, 0, 0, double.NaN, decay);

    public LearningRateAreas After(double rate)
    {
        var drop = double.IsNaN(LastRate) ? 0 : LastRate - rate;
        var momentum = Decay * Momentum + drop;
        return new LearningRateAreas(Forward + rate, Annealing + momentum, momentum, rate, Decay);
    }

    public LearningRateAreas After(IEnumerable<double> rates) => rates.Aggregate(this, (areas, rate) => areas.After(rate));

    /// <summary>The areas after each step of <paramref name="rates"/> (index i: after step i + 1).</summary>
    public static IReadOnlyList<LearningRateAreas> Along(IEnumerable<double> rates, double decay = DefaultDecay)
    {
        var all = new List<LearningRateAreas>();
        var areas = Start(decay);
        foreach (var rate in rates) all.Add(areas = areas.After(rate));
        return all;
    }
}

/// <summary>
/// The annealing scaling law L = L0 + A S1^(-alpha) - C S2 over a run's learning-rate areas
/// (<see cref="LearningRateAreas"/>): the loss falls as training goes (S1) and drops further when the rate is annealed
/// (S2). Fitted to a measured curve it predicts the loss an anneal branch of a given length and shape would end at.
/// <see cref="Fit"/> takes alpha by a search and L0, A and C by least squares at each alpha (the law is linear in them).
/// </summary>
public sealed record AnnealingLaw(double L0, double A, double Alpha, double C)
{
    /// <summary>The fewest measured losses <see cref="Fit"/> takes: one per parameter.</summary>
    public const int MinimumPoints = 4;

    public double Predict(LearningRateAreas areas) => L0 + A * Math.Pow(areas.Forward, -Alpha) - C * areas.Annealing;

    /// <summary>Root-mean-square error of the law on <paramref name="points"/>.</summary>
    public double Error(IReadOnlyList<(LearningRateAreas Areas, double Loss)> points) =>
        Math.Sqrt(points.Average(p => Math.Pow(Predict(p.Areas) - p.Loss, 2)));

    /// <summary>
    /// The law that fits <paramref name="points"/> (measured losses at known areas) best in least squares, with alpha
    /// in (0, 3]. Needs at least <see cref="MinimumPoints"/> points whose forward areas differ; a curve that never saw the rate come down leaves C
    /// unknown, and is fitted with C = 0 (such a law predicts no gain from annealing: <see cref="AnnealingFit.KnowsAnnealing"/> false).
    /// </summary>
    public static AnnealingFit Fit(IReadOnlyList<(LearningRateAreas Areas, double Loss)> points)
    {
        if (points.Count < MinimumPoints)
            throw new ArgumentException($"fitting the annealing law needs at least {MinimumPoints} measured losses, not {points.Count}");
        if (points.Any(p => !(p.Areas.Forward > 0) || !double.IsFinite(p.Loss)))
            throw new ArgumentException("fitting the annealing law needs finite losses at steps with a positive learning-rate area");
        var annealing = points.Select(p => p.Areas.Annealing).ToList();
        var knowsAnnealing = annealing.Max() - annealing.Min() > 1e-12 * Math.Max(1, Math.Abs(annealing.Max()));

        (AnnealingLaw Law, double Error)? Solve(double alpha)
        {
            if (LinearFit(points, alpha, knowsAnnealing) is not { } law) return null;
            return (law, law.Error(points));
        }

        // A coarse scan of alpha on a log grid, then golden-section search in the best cell: the error is smooth in alpha.
        var grid = Enumerable.Range(0, 61).Select(i => 0.005 * Math.Pow(600, i / 60.0)).ToList();
        var scanned = grid.Select(alpha => (alpha, fit: Solve(alpha))).Where(s => s.fit is not null).ToList();
        if (scanned.Count == 0) throw new ArgumentException("the measured losses do not determine the annealing law (their learning-rate areas are too alike)");
        var best = scanned.MinBy(s => s.fit!.Value.Error);
        var at = grid.IndexOf(best.alpha);
        var (low, high) = (grid[Math.Max(0, at - 1)], grid[Math.Min(grid.Count - 1, at + 1)]);
        const double golden = 0.6180339887498949;
        for (var i = 0; i < 60; i++)
        {
            var (a, b) = (high - golden * (high - low), low + golden * (high - low));
            if ((Solve(a)?.Error ?? double.MaxValue) < (Solve(b)?.Error ?? double.MaxValue)) high = b;
            else low = a;
        }
        var refined = Solve((low + high) / 2);
        var chosen = refined is { } r && r.Error <= best.fit!.Value.Error ? r : best.fit!.Value;
        return new AnnealingFit(chosen.Law, chosen.Error, points.Count, knowsAnnealing);
    }

    /// <summary>L0, A and C by least squares at a fixed alpha (C = 0 when the curve does not determine it); null when singular.</summary>
    static AnnealingLaw? LinearFit(IReadOnlyList<(LearningRateAreas Areas, double Loss)> points, double alpha, bool withAnnealing)
    {
        var columns = withAnnealing ? 3 : 2;
        var normal = new double[columns, columns + 1];
        foreach (var (areas, loss) in points)
        {
            double[] row = withAnnealing ? [1, Math.Pow(areas.Forward, -alpha), -areas.Annealing] : [1, Math.Pow(areas.Forward, -alpha)];
            for (var i = 0; i < columns; i++)
            {
                for (var j = 0; j < columns; j++) normal[i, j] += row[i] * row[j];
                normal[i, columns] += row[i] * loss;
            }
        }
        if (Solve(normal, columns) is not { } x) return null;
        return new AnnealingLaw(x[0], x[1], alpha, withAnnealing ? x[2] : 0);
    }

    /// <summary>Gaussian elimination with partial pivoting on an n x (n+1) augmented matrix; null when singular.</summary>
    static double[]? Solve(double[,] m, int n)
    {
        for (var col = 0; col < n; col++)
        {
            var pivot = Enumerable.Range(col, n - col).MaxBy(r => Math.Abs(m[r, col]));
            var scale = Enumerable.Range(0, n).Max(r => Math.Abs(m[r, col]));
            if (Math.Abs(m[pivot, col]) <= 1e-13 * Math.Max(scale, 1e-300)) return null;
            for (var k = 0; k <= n; k++) (m[col, k], m[pivot, k]) = (m[pivot, k], m[col, k]);
            for (var r = 0; r < n; r++)
            {
                if (r == col) continue;
                var f = m[r, col] / m[col, col];
                for (var k = col; k <= n; k++) m[r, k] -= f * m[col, k];
            }
        }
        return [.. Enumerable.Range(0, n).Select(i => m[i, n] / m[i, i])];
    }
}

/// <summary>A fitted <see cref="AnnealingLaw"/>: its root-mean-square error on the <see cref="Points"/> it was fitted to,
/// and whether the curve held an anneal (otherwise C is 0 and the law cannot say what annealing gains).</summary>
public sealed record AnnealingFit(AnnealingLaw Law, double Error, int Points, bool KnowsAnnealing);
