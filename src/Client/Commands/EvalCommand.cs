using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Streaming.Grains;

namespace Streaming.Client.Commands;

/// <summary>
/// `streaming eval --run R [--json] [--plot DIR]`: the run's loss matrix (row: after task i; column: corpus j),
/// forgetting per corpus, and its releases; `--plot DIR` draws the matrix as a heat map and validation loss per
/// corpus against step.
/// </summary>
public static class EvalCommand
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, Converters = { new NonFiniteAsNull() } };

    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "The run to show", Required = true };
        var json = new Option<bool>("--json")
        {
            Description = "Print JSON: {\"run\":..,\"matrix\":[..],\"forgetting\":{..},\"releases\":[..],\"main\":[..],\"pending\":..,\"noValidation\":{corpus: why}}",
        };
        var plot = new Option<string?>("--plot") { Description = "Also write loss-matrix.png and validation-loss.png into this folder" };
        var command = new Command("eval", "Show a run's loss matrix, forgetting per corpus and releases") { run, json, plot, CommonOptions.Gateway, CommonOptions.Credentials };
        command.SetAction((parse, cancellation) => CommonOptions.Guard(async () =>
        {
            var name = parse.GetValue(run)!;
            await using var silo = await SiloConnection.ConnectAsync(CommonOptions.Target(parse), cancellation);
            var status = await silo.Client.GetGrain<ITrainerGrain>(name).GetStatusAsync();
            if (status.Corpora.Count == 0) throw new UserError($"run '{name}' does not exist or has no corpora yet");
            var report = await silo.Client.GetGrain<IEvaluatorGrain>(name).GetReportAsync();
            var corpora = status.Corpora.Select(c => c.Name).ToList();
            var noValidation = await MissingValidation.OfAsync(silo.Client, corpora);
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new { run = name, corpora, report.Matrix, report.Forgetting, report.Releases, report.Main, report.Pending, noValidation }, Json));
            else Print(name, corpora, report, noValidation, status.Releases);
            if (parse.GetValue(plot) is { } folder)
            {
                try
                {
                    Directory.CreateDirectory(folder);
                    foreach (var file in EvalPlot.Save(name, corpora, report, folder)) Console.Error.WriteLine($"wrote {file}");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new UserError($"--plot: cannot write into '{folder}' ({e.Message.ReplaceLineEndings(" ")})");
                }
            }
            return 0;
        }));
        return command;
    }

    /// <summary>A corpus without validation tokens shows n/a (explained under the table); a corpus not seen yet by a row stays empty.</summary>
    const string NotAvailable = "n/a";

    static void Print(string run, List<string> corpora, EvaluationReport report, IReadOnlyDictionary<string, string> noValidation,
        IReadOnlyList<ReleaseInfo> releases)
    {
        if (report.Matrix.Count == 0)
        {
            Console.WriteLine($"run {run}: no task has finished yet ({report.Pending} snapshots waiting for evaluation)");
            foreach (var why in noValidation.Values) Console.WriteLine(why);
            return;
        }
        bool Seen(string corpus, TaskLosses row) => corpora.IndexOf(corpus) <= corpora.IndexOf(row.AfterTask);
        string Cell(string corpus, TaskLosses row) =>
            row.Loss.TryGetValue(corpus, out var l) ? $"{l:F3}" : noValidation.ContainsKey(corpus) && Seen(corpus, row) ? NotAvailable : "";
        var matrix = new Table { Title = new TableTitle($"run {run}: validation loss per corpus (nats per token) after each task") };
        matrix.AddColumn("after task");
        foreach (var corpus in corpora) matrix.AddColumn(corpus);
        foreach (var row in report.Matrix)
            matrix.AddRow([$"{row.AfterTask} (step {row.Step:N0})", .. corpora.Select(c => Cell(c, row))]);
        matrix.AddRow(["forgetting", .. corpora.Select(c => report.Forgetting.TryGetValue(c, out var f) ? $"{f:+0.000;-0.000;0.000}"
            : noValidation.ContainsKey(c) ? NotAvailable : "")]);
        AnsiConsole.Write(matrix);
        foreach (var why in noValidation.Values) Console.WriteLine($"{NotAvailable}: {why}");
        // The newest task has no forgetting yet (0 by definition): averages are over the earlier ones.
        var forgetting = report.Forgetting.Where(f => f.Key != report.Matrix[^1].AfterTask).Select(f => f.Value).ToList();
        if (forgetting.Count > 0)
            Console.WriteLine($"forgetting over earlier tasks: average {forgetting.Average():F3}, maximum {forgetting.Max():F3} (loss now minus right after the corpus' own task)");
        foreach (var release in report.Releases)
            Console.WriteLine($"release {release.Snapshot.Path} ({release.Snapshot.Kind}, step {release.Snapshot.Step:N0}): "
                + (release.Error ?? (release.Loss.Count == 0 ? $"{NotAvailable} (no corpus it had seen has validation tokens)"
                    : string.Join(", ", release.Loss.Select(l => $"{l.Key} {l.Value:F3}"))))
                + (releases.FirstOrDefault(r => r.Path == release.Snapshot.Path && r.Predicted is not null) is { } planned
                    ? $"; planned: {PlannedRelease.Describe(planned with { Loss = release.Loss })}" : ""));
        if (report.Pending > 0) Console.WriteLine($"{report.Pending} snapshots waiting for evaluation");
    }
}
