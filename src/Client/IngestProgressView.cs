using Spectre.Console;
using Streaming.Grains;

namespace Streaming.Client;

/// <summary>
/// Draws an ingest as two bars, one per pass over the source (scan: read and hash; tokenize: read again
/// and write blocks), each with bytes read of the total, time left, and documents and tokens so far; a URL's download,
/// or a local corpus' hashing and upload, runs on the first bar before its scan.
/// </summary>
public sealed class IngestProgressView
{
    readonly string corpus;
    readonly ProgressTask scan;
    readonly ProgressTask tokenize;

    IngestProgressView(ProgressContext context, string corpus)
    {
        this.corpus = Markup.Escape(corpus);
        scan = context.AddTask(Describe(IngestProgressInfo.ScanPhase, 0, 0, 0), maxValue: 1);
        tokenize = context.AddTask(Describe(IngestProgressInfo.TokenizePhase, 0, 0, 0), autoStart: false, maxValue: 1);
    }

    /// <summary>Runs <paramref name="ingest"/>, feeding its progress reports to the bars on <paramref name="console"/>.</summary>
    public static async Task<IngestResult> ShowAsync(IAnsiConsole console, string corpus, Func<Action<IngestProgressInfo>, Task<IngestResult>> ingest)
    {
        IngestResult? result = null;
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new DownloadedColumn { Base = FileSizeBase.Binary }, new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var view = new IngestProgressView(context, corpus);
                result = await ingest(view.Update);
                view.Finish(result);
            });
        return result!;
    }

    void Update(IngestProgressInfo p)
    {
        var task = p.Phase == IngestProgressInfo.TokenizePhase ? tokenize : scan;
        if (task == tokenize && !tokenize.IsStarted)
        {
            Complete(scan);
            tokenize.StartTask();
        }
        task.MaxValue = Math.Max(1, p.TotalBytes);
        task.Value = p.BytesRead;
        task.Description = Describe(p.Phase, p.Documents, p.Tokens, p.SkippedDocuments);
    }

    void Finish(IngestResult result)
    {
        // A small source is done before the first poll: the bars still end with its real size.
        scan.MaxValue = tokenize.MaxValue = Math.Max(1, result.SourceBytes);
        Complete(scan);
        scan.Description = Describe(IngestProgressInfo.ScanPhase, result.Documents, 0, result.Skipped.Documents);
        if (!tokenize.IsStarted) tokenize.StartTask();
        // Queued before: the stored blocks were kept, nothing was tokenized.
        tokenize.Description = result.AlreadyQueued
            ? $"{corpus} [grey]already stored[/]"
            : Describe(IngestProgressInfo.TokenizePhase, result.Documents, result.Tokens + result.ValidationTokens, result.Skipped.Documents);
        Complete(tokenize);
    }

    static void Complete(ProgressTask task)
    {
        task.Value = task.MaxValue;
        task.StopTask();
    }

    /// <summary>The first bar also shows a URL's download, or a local file's hashing and upload (bytes only: no documents yet).</summary>
    string Describe(string phase, long documents, long tokens, long skipped) =>
        phase is IngestProgressInfo.DownloadPhase or IngestProgressInfo.HashPhase or IngestProgressInfo.UploadPhase ? $"{corpus} {phase}" :
        $"{corpus} {phase}: {documents:N0} docs" + (phase == IngestProgressInfo.TokenizePhase ? $", {tokens:N0} tokens" : "")
        + (skipped > 0 ? $", [yellow]{skipped:N0} skipped[/]" : "");
}
