using System.Globalization;
using System.Text;
using System.Text.Json;
using Streaming.Schedules;

namespace Streaming.Client.Compare;

/// <summary>
/// The report of a comparison in one folder: report.md (a summary table per schedule with mean ± standard deviation over
/// seeds, what it found, the loss matrices, the runs), the figures, and results.json with every number.
/// </summary>
public sealed class ComparisonReport(ComparisonSpec spec, IReadOnlyList<RunOutcome> runs, double wallSeconds)
{
    public const string MarkdownFile = "report.md";
    public const string JsonFile = "results.json";

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, Converters = { new NonFiniteAsNull() } };

    public IReadOnlyList<ScheduleSummary> Summaries { get; } =
        [.. spec.Schedules.Select(kind => ScheduleSummary.Of(kind, [.. runs.Where(r => r.Run.Schedule == kind)]))];

    IReadOnlyList<string> Corpora => [.. spec.Corpora.Select(c => c.Label)];

    /// <summary>Writes everything into <paramref name="folder"/>; returns the paths written.</summary>
    public IReadOnlyList<string> Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var figures = ComparisonFigures.Save(spec, runs, folder);
        var markdown = Path.Combine(folder, MarkdownFile);
        File.WriteAllText(markdown, Markdown(figures.Select(Path.GetFileName).ToList()!));
        var json = Path.Combine(folder, JsonFile);
        File.WriteAllText(json, JsonSerializer.Serialize(Results(), Json));
        return [markdown, json, .. figures];
    }

    /// <summary>The summary table: per schedule, final loss per corpus, average loss, average and maximum forgetting.</summary>
    public string SummaryTable()
    {
        var text = new StringBuilder();
        text.AppendLine($"| schedule | {string.Join(" | ", Corpora.Select(c => $"final loss {c}"))} | average loss | average forgetting | max forgetting |");
        text.AppendLine($"|---|{string.Concat(Corpora.Select(_ => "---|"))}---|---|---|");
        foreach (var s in Summaries)
            text.AppendLine($"| {s.Schedule} | {string.Join(" | ", Corpora.Select(c => s.FinalLoss[c].Text()))} | {s.AverageLoss.Text()} | " +
                $"{s.AverageForgetting.Text("+0.000;-0.000;0.000")} | {s.MaxForgetting.Text("+0.000;-0.000;0.000")} |");
        return text.ToString();
    }

    /// <summary>Per schedule after the first (the reference): its paired differences from the reference, seed by seed.</summary>
    public IReadOnlyList<(string Schedule, IReadOnlyList<PairedDifference> Differences)> Differences()
    {
        IReadOnlyList<RunOutcome> Of(string kind) => [.. runs.Where(r => r.Run.Schedule == kind).OrderBy(r => r.Run.Seed)];
        var reference = Of(spec.Schedules[0]);
        return [.. spec.Schedules.Skip(1).Select(kind => (kind, (IReadOnlyList<PairedDifference>)
        [
            PairedDifference.Of("average final loss", [.. Of(kind).Select(r => r.AverageLoss)], [.. reference.Select(r => r.AverageLoss)]),
            PairedDifference.Of("average forgetting", [.. Of(kind).Select(r => r.AverageForgetting)], [.. reference.Select(r => r.AverageForgetting)]),
        ]))];
    }

    /// <summary>
    /// Per schedule against the first one (the reference): forgetting and average loss in numbers, then whether the
    /// differences are larger than the spread between seeds (with one seed: that it cannot tell).
    /// </summary>
    public IReadOnlyList<string> Findings()
    {
        var reference = Summaries[0];
        var lines = new List<string>();
        foreach (var (s, (_, differences)) in Summaries.Skip(1).Zip(Differences()))
        {
            lines.Add($"{reference.Schedule} against {s.Schedule}: average forgetting {F(reference.AverageForgetting.Mean)} vs {F(s.AverageForgetting.Mean)} " +
                $"({Compare(reference.AverageForgetting.Mean, s.AverageForgetting.Mean, "forgets less", "forgets more")}), " +
                $"average final loss {reference.AverageLoss.Mean:F3} vs {s.AverageLoss.Mean:F3} " +
                $"({Compare(reference.AverageLoss.Mean, s.AverageLoss.Mean, "lower", "higher")}).");
            lines.Add(spec.Seeds < 2
                ? $"Significance: one seed per schedule, so this report cannot tell whether {s.Schedule} and {reference.Schedule} differ by more " +
                  "than the spread between seeds; compare with --seeds 3 or more."
                : $"Significance of {s.Schedule} minus {reference.Schedule}, paired by seed over {spec.Seeds} seeds (mean ± standard error): " +
                  string.Join("; ", differences.Select(d => d.Text())) + ".");
        }
        return lines;
    }

    /// <summary>The settings every run shares, each with where it came from: given, the silo's default, or derived from the stream.</summary>
    public string SettingsTable()
    {
        var schedule = runs[0].Schedule;
        string Given(double? value, string option) => value is null ? "the silo's default" : option;
        var anneal = new ScheduleConfig { AnnealFraction = spec.AnnealFraction }.AnnealStepsFor(spec.StepsPerTask);
        var text = new StringBuilder();
        text.AppendLine("| setting | value | from |");
        text.AppendLine("|---|---|---|");
        text.AppendLine($"| steps per task | {spec.StepsPerTask:N0} | --steps-per-task |");
        foreach (var length in spec.PhaseLengths)
            text.AppendLine($"| {length.Setting}{(length.Setting == "cooldown" ? " (infinite)" : "")} | {length.StepsText} | {length.Source} |");
        if (spec.Schedules.Any(k => ComparedSchedule.Parse(k)!.HasBranches))
            text.AppendLine($"| anneal branch (infinite, wsd) | {anneal:N0} steps | --anneal-fraction {Num(spec.AnnealFraction)} |");
        if (spec.Averages)
            text.AppendLine($"| weight average (KIND+average) | decay {Num(spec.EffectiveAverageDecay)} (half-life {Math.Log(0.5) / Math.Log(spec.EffectiveAverageDecay):F0} steps) | " +
                $"{(spec.AverageDecay is null ? "the default" : "--average-decay")} |");
        text.AppendLine($"| max lr | {Num(schedule.MaxLr)} | {Given(spec.MaxLr, "--max-lr")} |");
        text.AppendLine($"| const lr | {Num(schedule.ConstLr)} | {Given(spec.ConstLr, "--const-lr")} |");
        text.AppendLine($"| min lr | {Num(schedule.MinLr)} | {Given(spec.MinLr, "--min-lr")} |");
        text.AppendLine($"| replay | {Num(spec.Replay)} | --replay |");
        text.AppendLine($"| evaluate every | {spec.EffectiveEvaluateEvery:N0} steps | {(spec.EvaluateEvery is null ? "derived: a quarter of a task" : "--evaluate-every")} |");
        return text.ToString();
    }

    static string Num(double value) => NumberText.Format(value);

    static string F(double forgetting) => forgetting.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture);

    static string Compare(double ours, double theirs, string better, string worse) =>
        ours < theirs ? $"{better} by {theirs - ours:F3}" : ours > theirs ? $"{worse} by {ours - theirs:F3}" : "equal";

    string Markdown(IReadOnlyList<string> figures)
    {
        var first = runs[0];
        var text = new StringBuilder();
        text.AppendLine($"# Schedule comparison {spec.Name}");
        text.AppendLine();
        text.AppendLine($"Stream: {string.Join(" → ", Corpora)}, {spec.StepsPerTask:N0} optimizer steps per task for every run " +
            $"({spec.Corpora.Count * spec.StepsPerTask:N0} in all: compute-matched), {spec.Seeds} seed{(spec.Seeds == 1 ? "" : "s")} per schedule, " +
            $"replay {spec.Replay.ToString(CultureInfo.InvariantCulture)}, trained on {(first.Device == "" ? "an unknown device" : first.Device)}. " +
            (spec.Schedules.Any(k => ComparedSchedule.Parse(k)!.HasBranches)
                ? $"Schedules with anneal branches follow the paper protocol: the last {new ScheduleConfig { AnnealFraction = spec.AnnealFraction }.AnnealStepsFor(spec.StepsPerTask)} " +
                  $"steps of each task ({spec.AnnealFraction.ToString(CultureInfo.InvariantCulture)} of it) train an anneal branch whose release is evaluated, and the next task " +
                  "goes on from the main trajectory. "
                : "") +
            "A schedule without branches is evaluated at the end of each task" +
            (spec.Averages ? "; one named KIND+average trains every step of each task on its main trajectory and releases the moving average of its weights at the task's end (no training step)." : "."));
        text.AppendLine();
        text.AppendLine($"Each run trained {first.TokensTrained:N0} tokens" + (first.Model is { } m
            ? $" into a GPT {m} ({first.Parameters / 1e6:F2}M parameters)."
            : "."));
        text.AppendLine();
        text.AppendLine("Validation loss in nats per token on each corpus' held-out split (lower is better). Forgetting of a corpus: its loss after " +
            "the last task minus its loss right after its own task; averages and maxima are over the earlier tasks." +
            (spec.Seeds > 1 ? " Mean ± sample standard deviation over seeds." : ""));
        text.AppendLine();
        text.AppendLine("## Settings");
        text.AppendLine();
        text.Append(SettingsTable());
        text.AppendLine();
        text.AppendLine("## Summary");
        text.AppendLine();
        text.Append(SummaryTable());
        text.AppendLine();
        foreach (var finding in Findings()) text.AppendLine($"- {finding}");
        text.AppendLine();
        text.AppendLine("## Loss matrices");
        foreach (var s in Summaries)
        {
            text.AppendLine();
            text.AppendLine($"### {s.Schedule}");
            text.AppendLine();
            text.AppendLine($"| after task (step) | {string.Join(" | ", Corpora)} |");
            text.AppendLine($"|---|{string.Concat(Corpora.Select(_ => "---|"))}");
            foreach (var row in s.Matrix)
                text.AppendLine($"| {row.AfterTask} ({row.Step:N0}) | {string.Join(" | ", Corpora.Select(c => row.Loss.TryGetValue(c, out var l) ? l.Text() : ""))} |");
        }
        text.AppendLine();
        text.AppendLine("## Figures");
        text.AppendLine();
        foreach (var figure in figures) text.AppendLine($"![{Path.GetFileNameWithoutExtension(figure)}]({figure})");
        text.AppendLine();
        text.AppendLine("## Runs");
        text.AppendLine();
        text.AppendLine("| run | schedule | seed | average loss | average forgetting | tokens/s | wall time |");
        text.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in spec.Schedules.SelectMany(kind => runs.Where(r => r.Run.Schedule == kind)))
            text.AppendLine($"| {r.Run.Name} | {r.Run.Schedule} | {r.Run.Seed} | {r.AverageLoss:F3} | {F(r.AverageForgetting)} | {r.TokensPerSecond:N0} | " +
                (r.Seconds is { } s ? $"{s:F0} s" : "(trained before)") + " |");
        text.AppendLine();
        text.AppendLine($"Releases are kept in the silo's data folder (paths in {JsonFile}). Whole comparison: {wallSeconds:F0} s.");
        return text.ToString();
    }

    object Results() => new
    {
        comparison = spec.Name,
        corpora = spec.Corpora.Select(c => new { label = c.Label, path = c.Path }),
        stepsPerTask = spec.StepsPerTask,
        annealFraction = spec.AnnealFraction,
        replay = spec.Replay,
        seeds = spec.Seeds,
        evaluateEvery = spec.EffectiveEvaluateEvery,
        averageDecay = spec.Averages ? spec.EffectiveAverageDecay : (double?)null,
        wallSeconds,
        phaseLengths = spec.PhaseLengths,
        summary = Summaries,
        differences = Differences().Select(d => new
        {
            schedule = d.Schedule,
            reference = spec.Schedules[0],
            paired = d.Differences.Select(p => new
            {
                measure = p.Measure, mean = p.Mean, standardError = p.StandardError, seeds = p.Seeds, t = p.T, criticalT = p.CriticalT,
                beyondSeedSpread = p.BeyondSeedSpread,
            }),
        }),
        runs = runs.Select(r => new
        {
            run = r.Run.Name,
            schedule = r.Run.Schedule,
            seed = r.Run.Seed,
            taskRelease = r.Run.Settings.Release ?? "anneal",
            averageDecay = r.Run.Settings.AverageDecay,
            scheduleConfig = r.Schedule,
            matrix = r.Matrix,
            finalLoss = r.FinalLoss,
            averageLoss = r.AverageLoss,
            forgetting = r.Forgetting,
            averageForgetting = r.AverageForgetting,
            maxForgetting = r.MaxForgetting,
            releases = r.Releases,
            curve = r.Curve,
            learningRate = SchedulePlanner.Plan(r.Schedule, [.. spec.Corpora.Select(_ => spec.StepsPerTask)])
                .Select(row => new { step = row.Step, task = row.Task, phase = row.Phase.Name(), lr = row.LearningRate }),
            tokensTrained = r.TokensTrained,
            model = r.Model,
            parameters = r.Parameters,
            tokensPerSecond = r.TokensPerSecond,
            device = r.Device,
            seconds = r.Seconds,
        }),
    };
}
