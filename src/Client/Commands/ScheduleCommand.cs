using System.CommandLine;
using System.Globalization;
using Streaming.Training.Schedules;

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
        // Every option is read as text and parsed here, so that a bad number is our one-line error and
        // not System.CommandLine's multi-line report with help; ZeroOrMore lets `--max-lr` with no value,
        // or given twice, reach us too.
        var kind = Opt("--kind", $"Schedule kind: {string.Join(", ", ScheduleKinds.AllNames)}", "infinite");
        var maxLr = Opt("--max-lr", "Peak learning rate", "3e-4");
        var constLr = Opt("--const-lr", "Constant learning rate after the cooldown (infinite, constant)", "1.65e-4");
        var minLr = Opt("--min-lr", "Final learning rate of decays and anneal branches", "3e-5");
        var warmup = Opt("--warmup", "Linear warmup steps (repeated-cosine: on every task)", Str(ScheduleConfig.DefaultWarmupSteps));
        var cooldown = Opt("--cooldown", "Infinite: cooldown steps from max to const after the warmup", Str(ScheduleConfig.DefaultCooldownSteps));
        var cooldownShape = Opt("--cooldown-shape", "Infinite cooldown: cosine, inverse-sqrt or linear", "cosine");
        var annealShape = Opt("--anneal-shape", "Anneal branch: exponential, linear, cosine or 1-sqrt [default: exponential; wsd: 1-sqrt]", null);
        var tasks = Opt("--tasks", "Comma list of task lengths in steps, e.g. 100,80,60", "1000");
        var annealFraction = Opt("--anneal-fraction", "Paper protocol: each task of T steps ends with an anneal branch of A = f T steps (f in [0, 1))", null);
        var annealSteps = Opt("--anneal-steps", "Paper protocol with a fixed branch length A instead of a fraction", null);
        var plot = Opt("--plot", "Also draw the schedule into this PNG file", null);

        var command = new Command("schedule", "Print a learning-rate schedule as CSV (step,task,phase,lr) without training")
        {
            kind, maxLr, constLr, minLr, warmup, cooldown, cooldownShape, annealShape, tasks, annealFraction, annealSteps, plot,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse =>
        {
            try
            {
                if (parse.UnmatchedTokens.Count > 0)
                    throw new ScheduleConfigException($"unknown argument '{parse.UnmatchedTokens[0]}' (see streaming schedule --help)");
                var config = new ScheduleConfig
                {
                    Kind = Text(parse, kind)!,
                    MaxLr = Number(parse, maxLr),
                    ConstLr = Number(parse, constLr),
                    MinLr = Number(parse, minLr),
                    WarmupSteps = Count(parse, warmup)!.Value,
                    CooldownSteps = Count(parse, cooldown)!.Value,
                    CooldownShape = Text(parse, cooldownShape)!,
                    AnnealShape = Text(parse, annealShape),
                    AnnealFraction = Text(parse, annealFraction) is null ? null : Number(parse, annealFraction),
                    AnnealSteps = Count(parse, annealSteps),
                };
                var lengths = TaskLengths(Text(parse, tasks)!);
                var rows = SchedulePlanner.Plan(config, lengths);
                WriteCsv(rows);
                if (Text(parse, plot) is { } png)
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

    private static Option<string[]> Opt(string name, string description, string? defaultValue)
    {
        var option = new Option<string[]>(name) { Description = description, Arity = ArgumentArity.ZeroOrMore, HelpName = "value" };
        if (defaultValue is not null) option.DefaultValueFactory = _ => [defaultValue];
        return option;
    }

    /// <summary>The option's text, or null when neither given nor defaulted. Given without a value, or
    /// more than once, is an error.</summary>
    private static string? Text(ParseResult parse, Option<string[]> option)
    {
        var field = option.Name.TrimStart('-');
        if (parse.GetResult(option) is { Implicit: false } given)
        {
            if (given.Tokens.Count == 0) throw new ScheduleConfigException(field, "needs a value");
            if (given.Tokens.Count > 1) throw new ScheduleConfigException(field, "given more than once");
        }
        var values = parse.GetValue(option);
        return values is { Length: > 0 } ? values[0] : null;
    }

    private static double Number(ParseResult parse, Option<string[]> option)
    {
        var text = Text(parse, option)!;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new ScheduleConfigException(option.Name.TrimStart('-'), $"not a number ('{text}')");
        return v;
    }

    private static long? Count(ParseResult parse, Option<string[]> option)
    {
        if (Text(parse, option) is not { } text) return null;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
            throw new ScheduleConfigException(option.Name.TrimStart('-'), $"not a whole number of steps ('{text}')");
        return v;
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

    private static string Str(long v) => v.ToString(CultureInfo.InvariantCulture);
}
