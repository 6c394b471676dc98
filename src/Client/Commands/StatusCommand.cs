using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Streaming.Grains;

namespace Streaming.Client.Commands;

/// <summary>`streaming status [--run R] [--json]`: per run the phase, step, learning rate, loss and tokens per corpus.</summary>
public static class StatusCommand
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true, Converters = { new NonFiniteAsNull() }, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Command Create()
    {
        var run = new Option<string?>("--run") { Description = "Only this run" };
        var json = new Option<bool>("--json") { Description = "Print JSON: {\"runs\":[...]}; a run's noValidation says why a corpus has no validation loss" };
        var command = new Command("status", "Show each run's phase, step, learning rate, loss, tokens trained per corpus, last checkpoint and release")
        {
            run, json, CommonOptions.Gateway, CommonOptions.Credentials,
        };
        command.SetAction((parse, cancellation) => CommonOptions.Guard(async () =>
        {
            await using var silo = await SiloConnection.ConnectAsync(CommonOptions.Target(parse), cancellation);
            var answer = await StatusQuery.AskAsync(silo.Client, parse.GetValue(run));
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new { runs = answer.Runs.Select(r => WithNoValidation(r, answer.NoValidationOf(r))).Cast<object>().Concat(answer.Unreadable) }, Json));
            else Print(answer.Runs, answer.Unreadable, answer.NoValidationOf);
            return 0;
        }));
        return command;
    }

    /// <summary>The run's status fields as they are, plus noValidation: corpus to why it has no validation loss.</summary>
    static JsonObject WithNoValidation(RunStatus run, IReadOnlyDictionary<string, string> noValidation)
    {
        var node = JsonSerializer.SerializeToNode(run, Json)!.AsObject();
        node["noValidation"] = JsonSerializer.SerializeToNode(noValidation, Json);
        return node;
    }

    static void Print(IReadOnlyList<RunStatus> runs, IReadOnlyList<UnreadableRun> unreadable, Func<RunStatus, IReadOnlyDictionary<string, string>> noValidation)
    {
        foreach (var r in unreadable) Console.WriteLine($"{r.Run}: cannot be shown: {r.Error}");
        if (runs.Count == 0 && unreadable.Count > 0) return;
        if (runs.Count == 0)
        {
            Console.WriteLine("no runs yet (queue a corpus with `streaming ingest`)");
            return;
        }
        var table = new Table().AddColumns("run", "phase", "step", "lr", "loss", "tokens/s", "corpus", "tokens trained");
        foreach (var r in runs)
            foreach (var (c, i) in r.Corpora.Select((c, i) => (c, i)))
                table.AddRow(i == 0 ? r.Run : "", i == 0 ? r.Phase : "", i == 0 ? $"{r.Step:N0}" : "", i == 0 ? $"{r.Lr:G4}" : "",
                    i == 0 ? $"{r.Loss:F4}" : "", i == 0 ? $"{r.TokensPerSecond:N0}" : "", c.Name, $"{c.TokensTrained:N0} / {c.TokensTotal:N0}");
        AnsiConsole.Write(table);
        foreach (var r in runs)
        {
            var branch = r.Branch is { } b ? $"; {b.Mode} anneal branch at {b.Steps}/{b.Length}" : "";
            var pending = r.PendingAnnealSteps is { } a && r.Branch is not { Mode: "on-demand" } ? $"; on-demand anneal of {a} steps pending" : "";
            var model = r.Model is null ? "no model yet" : $"model {r.Model} ({r.Parameters / 1e6:F2}M parameters)";
            var device = r.ModelInMemory ? r.Device : r.Corpora.Count > 0 ? "no device: every corpus is trained, the model is not in memory until a new one comes" : "no device yet";
            var order = r.Order is { } o ? $", {o} block order" : "";
            Console.WriteLine($"{r.Run}: {model}, {r.Schedule} schedule{order}, {r.Tokenizer} tokens, on {device} at silo {r.Silo}");
            var lag = (r.EvaluationsPending > 0 ? $"; evaluator {r.EvaluationsPending} snapshot{(r.EvaluationsPending == 1 ? "" : "s")} behind" : "")
                + (r.EvaluationsSkipped > 0 ? $"; {r.EvaluationsSkipped} older main-trajectory snapshots passed over to keep up" : "");
            Console.WriteLine($"{r.Run}: last checkpoint {r.LastCheckpoint ?? "none yet"}; last release {r.LastRelease ?? "none yet"}{branch}{pending}{lag}");
            if (r.Average is { } average)
                Console.WriteLine($"{r.Run}: weight average, decay {average.Decay:G4} (half-life {average.HalfLifeSteps:F0} steps), task ends release {average.TaskRelease}; " +
                    $"last average release {(average.LastRelease is { } path ? $"{path} at step {average.LastReleaseStep:N0}" : "none yet")}");
            if (r.Releases.LastOrDefault(x => x.Predicted is not null) is { } planned)
                Console.WriteLine($"{r.Run}: last planned anneal release {planned.Path ?? "(not saved)"} at step {planned.Step:N0}: {PlannedRelease.Describe(planned)}");
            if (r.EvaluationError is { } error) Console.WriteLine($"{r.Run}: {error}");
            foreach (var why in noValidation(r).Values) Console.WriteLine($"{r.Run}: {why}");
            if (r.ReplayTokens > 0) Console.WriteLine($"{r.Run}: {r.ReplayTokens:N0} tokens of earlier corpora replayed");
            if (r.SkippedSteps > 0)
                Console.WriteLine($"{r.Run}: {r.SkippedSteps:N0} steps skipped: their loss or gradient was NaN or infinite, or a rollback undid them "
                    + $"({r.Corpora.Sum(c => c.TokensSkipped):N0} tokens passed over; the weights do not carry them)");
            if (r.Rollbacks > 0) Console.WriteLine($"{r.Run}: rolled back to its last checkpoint {r.Rollbacks} time{(r.Rollbacks == 1 ? "" : "s")} after steps skipped in a row");
            if (r.LastLossSpike is { } spike)
                Console.WriteLine($"{r.Run}: {r.LossSpikes:N0} loss spike{(r.LossSpikes == 1 ? "" : "s")}; the last at step {spike.Step:N0}: {spike.Loss:F4} against a reference of {spike.Reference:F4}");
            // The last blocks of each task under the paper protocol train only its anneal branch, not the main trajectory.
            if (r.Corpora.Sum(c => c.TokensAnnealOnly) is > 0 and var annealOnly)
                Console.WriteLine($"{r.Run}: {annealOnly:N0} more tokens trained only by anneal branches (" +
                    string.Join(", ", r.Corpora.Where(c => c.TokensAnnealOnly > 0).Select(c => $"{c.Name} {c.TokensAnnealOnly:N0}")) + ")");
        }
    }
}
