using System.CommandLine;
using System.Globalization;
using Streaming.Schedules;

namespace Streaming.Client.Commands;

/// <summary>
/// `streaming schedule`: prints a learning-rate schedule without training, as CSV on stdout
/// (`step,task,phase,lr`, one row per executed optimizer step, main and branch alike), and with
/// `--plot FILE.png` also draws it. Every bad input is one line on stderr and exit code 2.
/// </summary>
public static class ScheduleCommand
{
    private const int BadInput = 2;

    public static Command Create()
    {
        // Every option is read as text and parsed by TextOptions, so that a bad number is one line.
        var kind = TextOptions.Create("--kind", $"Schedule kind: {string.Join(", ", ScheduleKinds.AllNames)}", "infinite");
        var rates = new RateOptions(showDefaults: true);
        var cooldownShape = TextOptions.Create("--cooldown-shape", "Infinite cooldown: cosine, inverse-sqrt or linear", "cosine");
        var annealShape = TextOptions.Create("--anneal-shape", "Anneal branch: exponential, linear, cosine or 1-sqrt [default: exponential; wsd: 1-sqrt]", null);
        var tasks = TextOptions.Create("--tasks", "Comma list of task lengths in steps, e.g. 100,80,60", "1000");
        var annealFraction = TextOptions.Create("--anneal-fraction", "Paper protocol: each task of T steps ends with an anneal branch of A = f T steps (f in [0, 1))", null);
        var annealSteps = TextOptions.Create("--anneal-steps", "Paper protocol with a fixed branch length A instead of a fraction", null);
        var plot = TextOptions.Create("--plot", "Also draw the schedule into this PNG file", null);

        var command = new Command("schedule", "Print a learning-rate schedule as CSV (step,task,phase,lr) without training")
        {
            kind,
        };
        foreach (var option in rates.All.Concat([cooldownShape, annealShape, tasks, annealFraction, annealSteps, plot])) command.Options.Add(option);
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse =>
        {
            try
            {
                if (parse.UnmatchedTokens.Count > 0)
                    throw new ScheduleConfigException($"unknown argument '{parse.UnmatchedTokens[0]}' (see streaming schedule --help)");
                var config = new ScheduleConfig
                {
                    Kind = TextOptions.Text(parse, kind)!,
                    MaxLr = rates.MaxLr(parse)!.Value,
                    ConstLr = rates.ConstLr(parse)!.Value,
                    MinLr = rates.MinLr(parse)!.Value,
                    WarmupSteps = rates.WarmupSteps(parse)!.Value,
                    CooldownSteps = rates.CooldownSteps(parse)!.Value,
                    CooldownShape = TextOptions.Text(parse, cooldownShape)!,
                    AnnealShape = TextOptions.Text(parse, annealShape),
                    AnnealFraction = TextOptions.OptionalNumber(parse, annealFraction),
                    AnnealSteps = TextOptions.Count(parse, annealSteps),
                };
                var lengths = TaskLengths(TextOptions.Text(parse, tasks)!);
                var rows = SchedulePlanner.Plan(config, lengths);
                WriteCsv(rows);
                if (TextOptions.Text(parse, plot) is { } png)
                {
                    SchedulePlot.Save(SchedulePlanner.Prepare(config, lengths), lengths, rows, png);
                    Console.Error.WriteLine($"wrote {png}");
                }
                return 0;
            }
            catch (ScheduleConfigException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return BadInput;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                Console.Error.WriteLine($"error: --plot: cannot write the file ({e.Message.ReplaceLineEndings(" ")})");
                return BadInput;
            }
        });
        return command;
    }

    private static List<long> TaskLengths(string text)
    {
        var lengths = new List<long>();
        foreach (var part in text.Split(','))
        {
            if (!long.TryParse(part.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
                throw new ScheduleConfigException("tasks", $"'{part.Trim()}' is not a whole number of steps (expected e.g. 100,80,60)");
            lengths.Add(v);
        }
        return lengths;
    }

    /// <summary>The CSV contract: header step,task,phase,lr; lr in round-trip format, invariant culture.</summary>
    private static void WriteCsv(IReadOnlyList<ScheduleRow> rows)
    {
        using var output = new StreamWriter(Console.OpenStandardOutput()) { NewLine = "\n" };
        output.WriteLine("step,task,phase,lr");
        foreach (var row in rows)
        {
            output.Write(row.Step.ToString(CultureInfo.InvariantCulture));
            output.Write(',');
            output.Write(row.Task.ToString(CultureInfo.InvariantCulture));
            output.Write(',');
            output.Write(row.Phase.Name());
            output.Write(',');
            output.WriteLine(row.LearningRate.ToString("R", CultureInfo.InvariantCulture));
        }
    }

}
