using Spectre.Console;
using Streaming.Grains;

namespace Streaming.Silo;

/// <summary>
/// The README's main job: queue the given corpora on one run, one task each, through the same grain calls
/// that `streaming ingest` makes, show progress until every token is trained, then print the results.
/// </summary>
public static class Demo
{
    const string Run = "demo";

    public static async Task<int> RunAsync(IServiceProvider services, IReadOnlyList<string> corpora, CancellationToken cancellation)
    {
        var grains = services.GetRequiredService<IGrainFactory>();
        var trainer = grains.GetGrain<ITrainerGrain>(Run);
        foreach (var path in corpora)
        {
            // The same progress `streaming ingest` shows: bytes of the source read, per pass (scan, then tokenize).
            var name = Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(path));
            IngestResult info;
            try
            {
                info = await AnsiConsole.Progress().AutoClear(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn { Base = FileSizeBase.Binary })
                    .StartAsync(async ctx =>
                    {
                        var bar = ctx.AddTask(Markup.Escape(name), maxValue: 1);
                        var result = await grains.IngestAsync(name, new IngestRequest(Run, Path.GetFullPath(path)), p =>
                        {
                            bar.Description = Markup.Escape($"{name} {p.Phase,-8} {p.Documents,10:N0} docs");
                            bar.MaxValue = Math.Max(1, p.TotalBytes);
                            bar.Value = p.BytesRead;
                        }, cancellation: cancellation);
                        bar.Value = bar.MaxValue = Math.Max(1, result.SourceBytes);
                        return result;
                    });
            }
            catch (IngestFailedException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            AnsiConsole.MarkupLineInterpolated($"{(info.AlreadyQueued ? "already queued" : "queued")} [bold]{info.Name}[/]: {info.Describe()}");
        }

        RunStatus status = await trainer.GetStatusAsync();
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var bars = status.Corpora.ToDictionary(c => c.Name, c => ctx.AddTask(c.Name, maxValue: c.TokensTotal));
                while (!cancellation.IsCancellationRequested)
                {
                    status = await trainer.GetStatusAsync();
                    foreach (var c in status.Corpora)
                    {
                        bars[c.Name].Value = c.TokensRead;
                        bars[c.Name].Description = $"{c.Name,-10} step {status.Step,6}  loss {status.Loss,6:F3}  lr {status.Lr:G3}  {status.TokensPerSecond,7:N0} tok/s";
                    }
                    if (status.Phase.StartsWith("failed") || status.EvaluationError is not null || Finished(status)) break;
                    await Task.Delay(500, cancellation);
                }
            });

        if ((status.Phase.StartsWith("failed") ? status.Phase : status.EvaluationError) is { } error)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] run {Run}: {error}");
            return 1;
        }
        var summary = new Table().AddColumns("run", "steps", "first train loss", "last train loss", "tokens/s", "device");
        summary.AddRow(Run, $"{status.Step:N0}", $"{status.FirstLoss:F3}", $"{status.Loss:F3}", $"{status.TokensPerSecond:N0}", status.Device);
        AnsiConsole.Write(summary);
        AnsiConsole.Write(LossTable(status));
        if (status.LastRelease is { } release)
            AnsiConsole.MarkupLineInterpolated($"releases (annealed branches, one per task): [bold]{Path.GetDirectoryName(release)}[/]");
        return 0;
    }

    static bool Finished(RunStatus status) =>
        status.Corpora.All(c => c.TokensRead >= c.TokensTotal) && status.Evaluations.Count >= status.Corpora.Count;

    /// <summary>Validation loss (nats per token) on each corpus after each task: rows are tasks, columns corpora.</summary>
    static Table LossTable(RunStatus status)
    {
        var table = new Table { Title = new TableTitle("validation loss per corpus after each task") };
        table.AddColumn("after task");
        foreach (var c in status.Corpora) table.AddColumn(c.Name);
        foreach (var row in status.Evaluations)
            table.AddRow([row.AfterTask, .. status.Corpora.Select(c => row.Loss.TryGetValue(c.Name, out var l) ? $"{l:F3}" : "")]);
        // Forgetting (docs/evaluation.md): a corpus' loss now minus right after its own task; higher is worse.
        var forgetting = LossMatrix.Forgetting(status.Evaluations);
        table.AddRow(["forgetting", .. status.Corpora.Select(c => forgetting.TryGetValue(c.Name, out var f) ? $"{f:+0.000;-0.000;0.000}" : "")]);
        return table;
    }
}
