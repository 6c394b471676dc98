using ScottPlot;
using Streaming.Schedules;

namespace Streaming.Client.Compare;

/// <summary>
/// The figures of a comparison: learning rate against step for every schedule on one chart; validation loss against
/// step, one panel per corpus (the main trajectory as a line, each task's release as a marker); the loss matrices side
/// by side on one colour scale. Numbers over seeds are means.
/// </summary>
public static class ComparisonFigures
{
    public const string LearningRateFile = "learning-rate.png";
    public const string ValidationLossFile = "validation-loss.png";
    public const string MatricesFile = "loss-matrices.png";

    static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

    public static IReadOnlyList<string> Save(ComparisonSpec spec, IReadOnlyList<RunOutcome> runs, string folder)
    {
        var bySchedule = spec.Schedules.Select(kind => runs.Where(r => r.Run.Schedule == kind).ToList()).ToList();
        return
        [
            LearningRates(spec, bySchedule, Path.Combine(folder, LearningRateFile)),
            ValidationLoss(spec, bySchedule, Path.Combine(folder, ValidationLossFile)),
            Matrices(spec, bySchedule, Path.Combine(folder, MatricesFile)),
        ];
    }

    static string LearningRates(ComparisonSpec spec, IReadOnlyList<List<RunOutcome>> bySchedule, string path)
    {
        var plot = new Plot();
        var tasks = spec.Corpora.Select(_ => spec.StepsPerTask).ToList();
        for (var s = 0; s < bySchedule.Count; s++)
        {
            var rows = SchedulePlanner.Plan(bySchedule[s][0].Schedule, tasks);
            var line = plot.Add.ScatterLine(rows.Select(r => (double)r.Step).ToArray(), rows.Select(r => r.LearningRate).ToArray(), Palette.GetColor(s));
            line.LineWidth = 2;
            line.LegendText = spec.Schedules[s];
        }
        TaskBoundaries(plot, spec);
        plot.Title($"learning rate per step: {string.Join(" → ", spec.Corpora.Select(c => c.Label))}, {spec.StepsPerTask:N0} steps per task");
        plot.XLabel("step (main and branch steps alike)");
        plot.YLabel("learning rate");
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => v == 0 ? "0" : v.ToString("0.##e-0", System.Globalization.CultureInfo.InvariantCulture),
        };
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 1400, 600);
        return path;
    }

    static string ValidationLoss(ComparisonSpec spec, IReadOnlyList<List<RunOutcome>> bySchedule, string path)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(spec.Corpora.Count);
        for (var c = 0; c < spec.Corpora.Count; c++)
        {
            var corpus = spec.Corpora[c].Label;
            var plot = multiplot.GetPlot(c);
            for (var s = 0; s < bySchedule.Count; s++)
            {
                var color = Palette.GetColor(s);
                var curve = Mean(bySchedule[s], r => r.Curve, corpus);
                if (curve.Count > 0)
                {
                    var line = plot.Add.ScatterLine(curve.Select(p => (double)p.Step).ToArray(), curve.Select(p => p.Loss).ToArray(), color);
                    line.LineWidth = 2;
                    line.LegendText = $"{spec.Schedules[s]} main trajectory";
                }
                var releases = Mean(bySchedule[s], r => r.Matrix, corpus);
                var markers = plot.Add.ScatterPoints(releases.Select(p => (double)p.Step).ToArray(), releases.Select(p => p.Loss).ToArray(), color);
                markers.MarkerSize = 11;
                markers.MarkerShape = MarkerShape.FilledDiamond;
                markers.LegendText = $"{spec.Schedules[s]} release after each task";
            }
            TaskBoundaries(plot, spec);
            plot.Title($"validation loss on {corpus}");
            plot.XLabel("step");
            plot.YLabel("nats per token");
            plot.ShowLegend(Edge.Bottom);
        }
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        multiplot.SavePng(path, 620 * spec.Corpora.Count, 640);
        return path;
    }

    static string Matrices(ComparisonSpec spec, IReadOnlyList<List<RunOutcome>> bySchedule, string path)
    {
        var corpora = spec.Corpora.Select(c => c.Label).ToList();
        var summaries = bySchedule.Select(runs => ScheduleSummary.Of(runs[0].Run.Schedule, runs)).ToList();
        var all = summaries.SelectMany(s => s.Matrix.SelectMany(r => r.Loss.Values.Select(v => v.Mean))).ToList();
        var range = new ScottPlot.Range(all.Min(), all.Max());
        var multiplot = new Multiplot();
        multiplot.AddPlots(summaries.Count);
        for (var s = 0; s < summaries.Count; s++)
        {
            var rows = summaries[s].Matrix;
            var values = new double[rows.Count, corpora.Count];
            for (var i = 0; i < rows.Count; i++)
                for (var j = 0; j < corpora.Count; j++)
                    values[i, j] = rows[i].Loss.TryGetValue(corpora[j], out var loss) ? loss.Mean : double.NaN;
            var plot = multiplot.GetPlot(s);
            EvalPlot.Heatmap(plot, corpora, [.. rows.Select(r => $"after {r.AfterTask}")], values, range);
            plot.Title($"{summaries[s].Schedule}: average forgetting {summaries[s].AverageForgetting.Mean:+0.000;-0.000;0.000}");
        }
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        multiplot.SavePng(path, (320 + 150 * corpora.Count) * summaries.Count, 260 + 90 * corpora.Count);
        return path;
    }

    /// <summary>Dashed lines where each task ends (every run trains the same steps per task).</summary>
    static void TaskBoundaries(Plot plot, ComparisonSpec spec)
    {
        for (var t = 1; t < spec.Corpora.Count; t++)
            plot.Add.VerticalLine(t * spec.StepsPerTask - 0.5, 1, Colors.Black.WithAlpha(0.4), LinePattern.Dashed);
    }

    /// <summary>The loss on <paramref name="corpus"/> at each step, averaged over seeds (steps are the same in every seed).</summary>
    static List<(long Step, double Loss)> Mean(IEnumerable<RunOutcome> runs, Func<RunOutcome, IReadOnlyList<EvaluatedModel>> points, string corpus) =>
        [.. runs.SelectMany(points).Where(p => p.Loss.ContainsKey(corpus)).GroupBy(p => p.Step).OrderBy(g => g.Key)
            .Select(g => (g.Key, g.Average(p => p.Loss[corpus])))];
}
