using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using Streaming.Client.Compare;
using Streaming.Grains;
using Streaming.Schedules;

namespace Streaming.Client.Commands;

/// <summary>
/// `streaming compare --corpora A,B,C --schedules infinite,repeated-cosine --steps-per-task N --out DIR`: trains
/// each schedule (and seed) as its own run on the same stream of corpora, compute-matched, evaluates the release
/// after every task, and writes a report (report.md, figures, results.json) into DIR.
/// </summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var corpora = new Option<string>("--corpora") { Description = "The stream: corpus files or folders in order, separated by commas (readable by the silo)", Required = true };
        var schedules = new Option<string>("--schedules")
        {
            Description = $"Schedule kinds to compare, separated by commas; the first is the reference ({ComparedSchedule.Names}: releases the weight average at task ends instead of an anneal branch)",
            DefaultValueFactory = _ => "infinite,repeated-cosine",
        };
        var stepsPerTask = TextOptions.Create("--steps-per-task", "Optimizer steps (blocks) every run trains on every task; at most the smallest corpus' blocks (required)", null);
        var annealFraction = TextOptions.Create("--anneal-fraction", "Schedules with branches: the last fraction of each task trains the task's anneal branch (paper protocol)", "0.15");
        var replay = TextOptions.Create("--replay", "Fraction of every batch drawn from earlier corpora, in [0, 1)", "0");
        var seeds = TextOptions.Create("--seeds", "Runs per schedule, with seeds 1..K (the report gives mean and spread)", "1");
        var output = new Option<string>("--out") { Description = "Folder for report.md, the PNG figures and results.json", Required = true };
        var name = new Option<string?>("--name") { Description = "Name of the comparison's runs and corpora in the cluster (default: cmp- and a hash of the settings)" };
        var parallel = TextOptions.Create("--parallel", "Runs trained at once (default: the trainer slots of the cluster's silos, see streaming-silo --trainers)", null);
        var rates = new RateOptions(showDefaults: false, lengthsDefault: "derived from the stream, see the report's settings");
        var evaluateEvery = TextOptions.Create("--evaluate-every", "Main-trajectory steps between evaluations for the loss curves (default: a quarter of a task)", null);
        var tokenizer = new Option<string?>("--tokenizer") { Description = "The runs' tokenizer (default: the silo's, byte)" };
        var averageDecay = TextOptions.Create("--average-decay", $"KIND+average schedules: the weight average's decay per step, in (0, 1) [default: {RunSettings.DefaultAverageDecay}]", null);
        var command = new Command("compare", "Compare learning-rate schedules on a stream of corpora: one run per schedule and seed, compute-matched, with a report")
        {
            corpora, schedules, stepsPerTask, annealFraction, replay, seeds, output, name, parallel,
        };
        foreach (var option in rates.All.Concat([evaluateEvery, tokenizer, averageDecay, CommonOptions.Progress, CommonOptions.Gateway, CommonOptions.Credentials])) command.Options.Add(option);
        command.SetAction((parse, cancellation) => CommonOptions.Guard(async () =>
        {
            ComparisonSpec spec;
            int? slots;
            try
            {
                spec = new ComparisonSpec
                {
                    Corpora = [.. List(parse.GetValue(corpora)!).Select(p => Path.GetFullPath(p))
                        .Select(p => new StreamCorpus(NameRule.CorpusNameOf(p), p))],
                    Schedules = List(parse.GetValue(schedules)!),
                    StepsPerTask = TextOptions.Count(parse, stepsPerTask) ?? throw new UserError("--steps-per-task is required: the steps every run trains on every task"),
                    AnnealFraction = TextOptions.Number(parse, annealFraction),
                    Replay = TextOptions.Number(parse, replay),
                    Seeds = TextOptions.SmallCount(parse, seeds)!.Value,
                    MaxLr = rates.MaxLr(parse), ConstLr = rates.ConstLr(parse), MinLr = rates.MinLr(parse),
                    WarmupSteps = rates.WarmupSteps(parse), CooldownSteps = rates.CooldownSteps(parse),
                    EvaluateEvery = TextOptions.SmallCount(parse, evaluateEvery),
                    Tokenizer = parse.GetValue(tokenizer),
                    AverageDecay = TextOptions.OptionalNumber(parse, averageDecay),
                    GivenName = parse.GetValue(name),
                };
                slots = TextOptions.SmallCount(parse, parallel);
            }
            catch (ScheduleConfigException e)
            {
                throw new UserError(e.Message);
            }
            spec.Validate();
            if (slots is < 1) throw new UserError($"--parallel must be at least 1, not {slots}");
            var folder = Path.GetFullPath(parse.GetValue(output)!);
            Writable(folder);

            var clock = Stopwatch.StartNew();
            await using var silo = await SiloConnection.ConnectAsync(CommonOptions.Target(parse), cancellation);
            var progress = CommonOptions.ProgressConsole(parse) ?? Silent;
            progress.MarkupLineInterpolated($"comparison [bold]{spec.Name}[/]: {string.Join(", ", spec.Schedules)} on {string.Join(" → ", spec.Corpora.Select(c => c.Label))} (run the same command again to pick it up if interrupted)");
            foreach (var length in spec.PhaseLengths.Where(l => l.Derived)) progress.MarkupLineInterpolated($"{length.Setting}: {length.StepsText} ({length.Source})");
            var runs = await new ComparisonRunner(silo.Client, spec, progress).RunAsync(slots, cancellation);
            var report = new ComparisonReport(spec, runs, clock.Elapsed.TotalSeconds);
            IReadOnlyList<string> written;
            try
            {
                written = report.Write(folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UserError($"--out: cannot write the report into {folder} ({CommonOptions.OneLine(e.Message)}); the runs are trained: run the same command with another --out");
            }
            Print(report, spec);
            foreach (var file in written) Console.WriteLine($"wrote {file}");
            return 0;
        }));
        return command;
    }

    static List<string> List(string text) => [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>Fails before any training when the report could not be written.</summary>
    static void Writable(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
            var probe = Path.Combine(folder, $".streaming-compare-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserError($"--out: cannot write into {folder} ({CommonOptions.OneLine(e.Message)})");
        }
    }

    static readonly IAnsiConsole Silent = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });

    static void Print(ComparisonReport report, ComparisonSpec spec)
    {
        var corpora = spec.Corpora.Select(c => c.Label).ToList();
        var table = new Table { Title = new TableTitle($"{spec.Name}: validation loss (nats/token) after the last task, {spec.Corpora.Count} x {spec.StepsPerTask:N0} steps per run") };
        table.AddColumn(new TableColumn("schedule").NoWrap());
        table.AddColumns([.. corpora, "average loss", "avg forgetting", "max forgetting"]);
        foreach (var s in report.Summaries)
            table.AddRow([s.Schedule, .. corpora.Select(c => s.FinalLoss[c].Text()), s.AverageLoss.Text(),
                s.AverageForgetting.Text("+0.000;-0.000;0.000"), s.MaxForgetting.Text("+0.000;-0.000;0.000")]);
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;   // a file or pipe has no width: no reason to wrap at 80
        AnsiConsole.Write(table);
        var derived = spec.PhaseLengths.Where(l => l.Derived).Select(l => $"{l.Setting} {l.StepsText} ({l.Source})").ToList();
        if (derived.Count > 0) Console.WriteLine($"Settings derived from the stream: {string.Join("; ", derived)}.");
        foreach (var finding in report.Findings()) Console.WriteLine(finding);
    }
}
