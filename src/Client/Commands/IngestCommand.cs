using System.CommandLine;
using Spectre.Console;
using Streaming.Grains;

namespace Streaming.Client.Commands;

/// <summary>
/// `streaming ingest --run R PATH [--name N] [--allow-duplicate] [--on-silo]`: queue a corpus as the run's next task while
/// training goes on. A local file or folder is uploaded to the cluster (<see cref="CorpusUpload"/>), so the client may be
/// anywhere its gateway is reachable; with --on-silo, or for an http(s) URL, the silo reads or downloads the source itself.
/// Shows the upload's and the silo's progress; the last line (stdout) says what was queued, what was skipped, and how many
/// documents other corpora of the run hold too.
/// </summary>
public static class IngestCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "The run to train on this corpus", Required = true };
        var name = new Option<string?>("--name") { Description = "The corpus name (default: the file or folder name)" };
        var tokenizer = new Option<string?>("--tokenizer")
        {
            Description = $"The run's tokenizer, fixed by its first corpus: {string.Join(", ", SiloNames.Tokenizers)} (default: the silo's, byte)",
        };
        var allowDuplicate = new Option<bool>("--allow-duplicate")
        {
            Description = "Queue the corpus even when the run already has the same text under another name (trains it again)",
        };
        var onSilo = new Option<bool>("--on-silo")
        {
            Description = "PATH is on the silo's machine (inside its --corpus-roots): the silo reads it there instead of this client uploading it",
        };
        var path = new Argument<string>("path")
        {
            Description = "A corpus file or folder (.txt, .jsonl, .parquet; .txt and .jsonl also as .gz or .zst) on this machine, which is "
                + "uploaded to the silo (resuming an interrupted upload of the same content), or with --on-silo on the silo's; "
                + "or an http:// or https:// URL of such a file, which the silo downloads",
        };
        var command = new Command("ingest", "Queue a corpus as the next task of a run") { run, name, tokenizer, allowDuplicate, onSilo, CommonOptions.Progress, path, CommonOptions.Gateway, CommonOptions.Credentials };
        command.SetAction((parse, cancellation) => CommonOptions.Guard(async () =>
        {
            var source = parse.GetValue(path)!;
            var upload = !CorpusSource.IsUrl(source, out _) && !parse.GetValue(onSilo);
            // A path goes absolute: the silo names the source by it, and reads it with --on-silo (its working folder is not ours).
            if (!CorpusSource.IsUrl(source, out _)) source = Path.GetFullPath(source);
            if (upload && !File.Exists(source) && !Directory.Exists(source)) throw new UserError($"corpus path not found: {source}");
            var corpus = parse.GetValue(name) ?? NameRule.CorpusNameOf(source);
            if (corpus.Length == 0) throw new UserError($"{source} names no file to call the corpus after: choose a name with --name");
            var request = new IngestRequest(parse.GetValue(run)!, source, parse.GetValue(tokenizer), parse.GetValue(allowDuplicate));
            await using var silo = await SiloConnection.ConnectAsync(CommonOptions.Target(parse), cancellation);
            var console = CommonOptions.ProgressConsole(parse);
            async Task<IngestResult> Ingest(Action<IngestProgressInfo> onProgress)
            {
                try
                {
                    return upload
                        ? await CorpusUpload.IngestAsync(silo.Client, corpus, request, onProgress, cancellation)
                        : await silo.Client.IngestAsync(corpus, request, onProgress, cancellation: cancellation);
                }
                catch (TimeoutException)
                {
                    throw new UserError($"the silo is still ingesting {source} after an hour; it carries on and queues it when done (see `streaming status --run {request.Run}`)");
                }
            }
            var result = await CommonOptions.Call(() => console is null ? Ingest(_ => { }) : IngestProgressView.ShowAsync(console, corpus, Ingest));
            Console.WriteLine(result.AlreadyQueued
                ? $"{result.Name} is already queued on run {request.Run}: {result.Describe()}"
                : $"queued {result.Name} on run {request.Run}: {result.Describe()}");
            return 0;
        }));
        return command;
    }
}
