using ScottPlot;
using Streaming.Grains;

namespace Streaming.Client;

/// <summary>The figures of `streaming eval --plot`: the loss matrix as a heat map, and validation loss per corpus against step.</summary>
public static class EvalPlot
{
    /// <summary>Writes loss-matrix.png (when a task has finished with a loss on some corpus: a heat map needs a value) and
    /// validation-loss.png into <paramref name="folder"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Save(string run, IReadOnlyList<string> corpora, EvaluationReport report, string folder)
    {
        var written = new List<string>();
        if (report.Matrix.Any(row => row.Loss.Count > 0)) written.Add(Matrix(run, corpora, report.Matrix, Path.Combine(folder, "loss-matrix.png")));
        written.Add(Curves(run, corpora, report, Path.Combine(folder, "validation-loss.png")));
        return written;
    }

    static string Matrix(string run, IReadOnlyList<string> corpora, IReadOnlyList<TaskLosses> rows, string path)
    {
        var plot = new Plot();
        var values = new double[rows.Count, corpora.Count];
        for (var i = 0; i < rows.Count; i++)
            for (var j = 0; j < corpora.Count; j++)
                values[i, j] = rows[i].Loss.TryGetValue(corpora[j], out var loss) ? loss : double.NaN;
        Heatmap(plot, corpora, [.. rows.Select(r => $"after {r.AfterTask}")], values, range: null);
        plot.Title($"run {run}: loss matrix");
        plot.SavePng(path, 300 + 160 * corpora.Count, 200 + 90 * rows.Count);
        return path;
    }

    /// <summary>Draws a loss matrix (row i: after task i; column j: corpus j) as an annotated heat map, in
    /// <paramref name="range"/> when given (so that several matrices share one colour scale).</summary>
    public static void Heatmap(Plot plot, IReadOnlyList<string> columns, IReadOnlyList<string> rows, double[,] values, ScottPlot.Range? range)
    {
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        if (range is { } r) heatmap.ManualRange = r;
        plot.Add.ColorBar(heatmap);   // its unit is in the axis label: a colour bar's own label overlaps its tick labels here
        for (var i = 0; i < rows.Count; i++)
            for (var j = 0; j < columns.Count; j++)
                if (!double.IsNaN(values[i, j]))
                {
                    var text = plot.Add.Text($"{values[i, j]:F3}", j, rows.Count - 1 - i);
                    text.LabelAlignment = Alignment.MiddleCenter;
                    text.LabelFontColor = Colors.White;
                    text.LabelFontSize = 16;
                }
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, columns.Count).Select(j => (double)j)], [.. columns]);
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - 1 - i))], [.. rows]);
        plot.XLabel("validation loss (nats/token) on corpus");
    }

    static string Curves(string run, IReadOnlyList<string> corpora, EvaluationReport report, string path)
    {
        var plot = new Plot();
        var points = report.Main.Where(m => m.Error is null).Select(m => (m.Snapshot.Step, m.Loss))
            .Concat(report.Matrix.Select(r => (r.Step, r.Loss))).OrderBy(p => p.Step).ToList();
        var palette = new ScottPlot.Palettes.Category10();
        for (var j = 0; j < corpora.Count; j++)
        {
            var series = points.Where(p => p.Loss.ContainsKey(corpora[j])).ToList();
            if (series.Count == 0) continue;
            var line = plot.Add.Scatter(series.Select(p => (double)p.Step).ToArray(), series.Select(p => p.Loss[corpora[j]]).ToArray(), palette.GetColor(j));
            line.LegendText = corpora[j];
            line.LineWidth = 2;
        }
        foreach (var row in report.Matrix)
        {
            plot.Add.VerticalLine(row.Step, 1, Colors.Black.WithAlpha(0.5), LinePattern.Dashed);
            var label = plot.Add.Text($" end of {row.AfterTask}", row.Step, points.SelectMany(p => p.Loss.Values).DefaultIfEmpty(1).Max());   // 1 when no corpus has a validation loss
            label.LabelAlignment = Alignment.UpperLeft;
            label.LabelFontSize = 12;
        }
        plot.Title($"run {run}: validation loss per corpus (main trajectory and task ends)");
        plot.XLabel("step");
        plot.YLabel("validation loss (nats/token)");
        plot.Axes.Margins(0.1, 0.1);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 1200, 600);
        return path;
    }
}
