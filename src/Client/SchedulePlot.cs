using ScottPlot;
using Streaming.Schedules;

namespace Streaming.Client;

/// <summary>Draws a planned schedule: learning rate against step, phases shaded, task starts marked,
/// main trajectory and anneal branches in different colours.</summary>
public static class SchedulePlot
{
    private static readonly Dictionary<SchedulePhase, Color> PhaseColors = new()
    {
        [SchedulePhase.Warmup] = Colors.Orange,
        [SchedulePhase.Cooldown] = Colors.Purple,
        [SchedulePhase.Constant] = Colors.SkyBlue,
        [SchedulePhase.Stable] = Colors.SkyBlue,
        [SchedulePhase.Anneal] = Colors.Red,
        [SchedulePhase.Decay] = Colors.Green,
    };

    private static readonly Color MainColor = Colors.Navy;
    private static readonly Color BranchColor = Colors.Crimson;

    public static void Save(ScheduleConfig config, IReadOnlyList<long> taskLengths, IReadOnlyList<ScheduleRow> rows, string path)
    {
        var plot = new Plot();
        var top = Math.Max(config.MaxLr, config.ConstLr) * 1.1;
        var shaded = new HashSet<SchedulePhase>();

        // Phase shading: one span per run of equal phase, each step owning [step - 0.5, step + 0.5].
        // (ScottPlot's HorizontalSpan is the one that covers an x range.)
        foreach (var (first, last) in Runs(rows, (a, b) => a.Phase == b.Phase))
        {
            var phase = rows[first].Phase;
            var span = plot.Add.HorizontalSpan(rows[first].Step - 0.5, rows[last].Step + 0.5, PhaseColors[phase].WithAlpha(0.18));
            span.LineStyle.Width = 0;
            if (shaded.Add(phase)) span.LegendText = phase.Name();
        }

        // Fork markers: a dotted line from the fork (the last main step) to the branch's first step.
        for (var i = 1; i < rows.Count; i++)
        {
            if (!rows[i].InBranch || rows[i - 1].InBranch) continue;
            var fork = plot.Add.Line(rows[i - 1].Step, rows[i - 1].LearningRate, rows[i].Step, rows[i].LearningRate);
            fork.LineColor = BranchColor;
            fork.LinePattern = LinePattern.Dotted;
            fork.LineWidth = 1.5f;
        }

        // Lines: one per run of main or branch steps, so that a branch reads as its own segment.
        bool mainLabelled = false, branchLabelled = false;
        foreach (var (first, last) in Runs(rows, (a, b) => a.InBranch == b.InBranch))
        {
            var xs = new double[last - first + 1];
            var ys = new double[xs.Length];
            for (var i = first; i <= last; i++) { xs[i - first] = rows[i].Step; ys[i - first] = rows[i].LearningRate; }
            var branch = rows[first].InBranch;
            var line = plot.Add.ScatterLine(xs, ys, branch ? BranchColor : MainColor);
            line.LineWidth = 2;
            if (branch && !branchLabelled) { line.LegendText = "anneal branch"; branchLabelled = true; }
            if (!branch && !mainLabelled) { line.LegendText = "main trajectory"; mainLabelled = true; }
        }

        // Task boundaries: a dashed line where each task's first step is.
        foreach (var (first, _) in Runs(rows, (a, b) => a.Task == b.Task))
        {
            var x = rows[first].Step - 0.5;
            plot.Add.VerticalLine(x, 1.5f, Colors.Black.WithAlpha(0.6), LinePattern.Dashed);
            var label = plot.Add.Text($" task {rows[first].Task}", x, top * 0.995);
            label.LabelFontSize = 13;
            label.LabelAlignment = Alignment.UpperLeft;
        }

        plot.Title($"{config.Kind} schedule, tasks {string.Join(",", taskLengths)}");
        plot.XLabel("step");
        plot.YLabel("learning rate");
        var lastStep = rows.Count > 0 ? rows[^1].Step : 0;
        plot.Axes.SetLimits(-0.5 - 0.01 * lastStep, lastStep + 0.5 + 0.01 * lastStep, 0, top);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => v == 0 ? "0" : v.ToString("0.##e-0", System.Globalization.CultureInfo.InvariantCulture),
        };
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 1400, 600);
    }

    /// <summary>Maximal runs [first, last] of consecutive rows that <paramref name="same"/> groups together.</summary>
    private static IEnumerable<(int First, int Last)> Runs(IReadOnlyList<ScheduleRow> rows, Func<ScheduleRow, ScheduleRow, bool> same)
    {
        var start = 0;
        for (var i = 1; i <= rows.Count; i++)
        {
            if (i == rows.Count || !same(rows[i - 1], rows[i]))
            {
                if (rows.Count > 0) yield return (start, i - 1);
                start = i;
            }
        }
    }
}
