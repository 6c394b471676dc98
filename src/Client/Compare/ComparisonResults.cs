using System.Globalization;
using Streaming.Schedules;

namespace Streaming.Client.Compare;

/// <summary>Validation loss per corpus (by label) of one evaluated model: a loss-matrix row, a release, a point of the main curve.</summary>
public sealed record EvaluatedModel(string Task, long Step, string Kind, string? Path, IReadOnlyDictionary<string, double> Loss);

/// <summary>
/// What one run of a comparison gave: its effective schedule, its loss matrix (row i: the release after task i,
/// on every corpus seen so far), the main trajectory's curve, its releases, the tokens it trained, how fast, and the model
/// as the silo reports it (RunStatus.Model: its shape in one line, and RunStatus.Parameters; null and 0
/// before the run has a model).
/// Forgetting of corpus j: loss on j after the last task minus loss on j right after task j.
/// </summary>
public sealed record RunOutcome(
    ComparisonRun Run,
    ScheduleConfig Schedule,
    IReadOnlyList<EvaluatedModel> Matrix,
    IReadOnlyList<EvaluatedModel> Curve,
    IReadOnlyList<EvaluatedModel> Releases,
    long TokensTrained,
    double TokensPerSecond,
    string Device,
    string? Model,
    long Parameters,
    double? Seconds)
{
    public IReadOnlyDictionary<string, double> FinalLoss => Matrix[^1].Loss;

    public double AverageLoss => FinalLoss.Values.Average();

    public IReadOnlyDictionary<string, double> Forgetting =>
        Matrix.ToDictionary(row => row.Task, row => FinalLoss[row.Task] - row.Loss[row.Task]);

    /// <summary>Over the earlier tasks: the last one has had no time to be forgotten (0 by definition).</summary>
    public IReadOnlyList<double> EarlierForgetting => [.. Matrix.SkipLast(1).Select(row => Forgetting[row.Task])];

    public double AverageForgetting => EarlierForgetting.Count == 0 ? 0 : EarlierForgetting.Average();

    public double MaxForgetting => EarlierForgetting.Count == 0 ? 0 : EarlierForgetting.Max();
}

/// <summary>Mean and spread of one number over seeds: the sample standard deviation (0 for one seed), min and max.</summary>
public sealed record Spread(double Mean, double Sd, double Min, double Max, int Seeds)
{
    public static Spread Of(IReadOnlyList<double> values)
    {
        var mean = values.Average();
        var sd = values.Count < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new Spread(mean, sd, values.Min(), values.Max(), values.Count);
    }

    /// <summary>"2.345 ± 0.012" (seeds &gt; 1) or "2.345".</summary>
    public string Text(string format = "F3") =>
        Seeds > 1 ? $"{Mean.ToString(format, CultureInfo.InvariantCulture)} ± {Sd.ToString("F3", CultureInfo.InvariantCulture)}" : Mean.ToString(format, CultureInfo.InvariantCulture);
}

/// <summary>A loss-matrix row averaged over seeds.</summary>
public sealed record SummaryRow(string AfterTask, long Step, IReadOnlyDictionary<string, Spread> Loss);

/// <summary>One schedule over its seeds: the report's numbers.</summary>
public sealed record ScheduleSummary(
    string Schedule,
    int Seeds,
    IReadOnlyDictionary<string, Spread> FinalLoss,
    Spread AverageLoss,
    Spread AverageForgetting,
    Spread MaxForgetting,
    IReadOnlyList<SummaryRow> Matrix)
{
    public static ScheduleSummary Of(string schedule, IReadOnlyList<RunOutcome> runs)
    {
        var corpora = runs[0].FinalLoss.Keys.ToList();
        Spread Over(Func<RunOutcome, double> value) => Spread.Of([.. runs.Select(value)]);
        var matrix = runs[0].Matrix.Select((row, i) => new SummaryRow(row.Task, row.Step,
            row.Loss.Keys.ToDictionary(corpus => corpus, corpus => Over(r => r.Matrix[i].Loss[corpus])))).ToList();
        return new ScheduleSummary(schedule, runs.Count,
            corpora.ToDictionary(corpus => corpus, corpus => Over(r => r.FinalLoss[corpus])),
            Over(r => r.AverageLoss), Over(r => r.AverageForgetting), Over(r => r.MaxForgetting), matrix);
    }
}

/// <summary>
/// A schedule against the reference on one measure, paired by seed (runs with the same seed train on the same
/// batches): the mean difference, its standard error and t = mean / SE. The difference is larger than the spread
/// between seeds when |t| exceeds Student's two-sided 95% value for seeds - 1 degrees of freedom.
/// </summary>
public sealed record PairedDifference(string Measure, double Mean, double StandardError, int Seeds)
{
    // Student's t, two-sided 95%, for 1..30 degrees of freedom; beyond that the normal value.
    static readonly double[] Critical =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    public static PairedDifference Of(string measure, IReadOnlyList<double> ours, IReadOnlyList<double> reference)
    {
        var differences = ours.Zip(reference, (a, b) => a - b).ToList();
        var spread = Spread.Of(differences);
        return new PairedDifference(measure, spread.Mean, spread.Sd / Math.Sqrt(differences.Count), differences.Count);
    }

    /// <summary>Null for one seed: nothing to measure the spread with.</summary>
    public double? T => Seeds < 2 ? null : StandardError > 0 ? Mean / StandardError : Mean == 0 ? 0 : double.PositiveInfinity * Math.Sign(Mean);

    public double? CriticalT => Seeds < 2 ? null : Seeds - 1 <= Critical.Length ? Critical[Seeds - 2] : 1.960;

    /// <summary>Null for one seed.</summary>
    public bool? BeyondSeedSpread => T is double t ? Math.Abs(t) > CriticalT : null;

    /// <summary>"average final loss -0.019 ± 0.010, t = -1.90: within the seed spread (|t| ≤ 4.30)".</summary>
    public string Text()
    {
        var verdict = BeyondSeedSpread == true ? "larger than the seed spread (|t| >" : "within the seed spread (|t| ≤";
        return string.Create(CultureInfo.InvariantCulture, $"{Measure} {Mean:+0.000;-0.000;0.000} ± {StandardError:F3}, t = {T:F2}: {verdict} {CriticalT:F2})");
    }
}
