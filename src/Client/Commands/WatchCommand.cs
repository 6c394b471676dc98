using System.CommandLine;
using Streaming.Client.Watch;
using Streaming.Grains;

namespace Streaming.Client.Commands;

/// <summary>
/// `streaming watch --run R DIR`: every new complete file in DIR becomes the run's next task, exactly once, in the
/// order the files became complete, until Ctrl+C (or, with --once, until what is there now is sent). Each file is uploaded
/// (or, with --on-silo, read by the silo where it is). A journal beside
/// the files (DIR/.streaming-watch.R.json) records what was sent, so a restarted watcher goes on where it stopped.
/// </summary>
public static class WatchCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "The run whose next tasks the files become", Required = true };
        var settle = new Option<double>("--settle")
        {
            Description = "Seconds a file's size and time must stay the same before it counts as complete (one that arrives by rename is complete at once)",
            DefaultValueFactory = _ => 5,
        };
        var poll = new Option<double>("--poll") { Description = "Seconds between looks at the folder", DefaultValueFactory = _ => 2 };
        var once = new Option<bool>("--once") { Description = "Send what is complete now and exit (for a cron job), instead of watching until Ctrl+C" };
        var journal = new Option<string?>("--journal") { Description = "The watcher's record of what it sent (default: DIR/.streaming-watch.RUN.json)" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = $"The run's tokenizer if the first file is its first corpus: {string.Join(", ", SiloNames.Tokenizers)}" };
        var allowDuplicate = new Option<bool>("--allow-duplicate") { Description = "Queue a file even when the run already has the same text under another name" };
        var onSilo = new Option<bool>("--on-silo")
        {
            Description = "The folder is on the silo's machine too (inside its --corpus-roots): the silo reads each file there instead of this client uploading it",
        };
        var folder = new Argument<string>("folder")
        {
            Description = "The folder to watch on this machine; each file (.txt, .jsonl, .parquet; .txt and .jsonl also as .gz or .zst) is uploaded "
                + "to the silo, or read there with --on-silo. Hidden files and names ending in .tmp, .part, .partial, .crdownload, .download or ~ are passed over",
        };
        var command = new Command("watch", "Turn every new complete file in a folder into the run's next task, exactly once")
        {
            run, settle, poll, once, journal, tokenizer, allowDuplicate, onSilo, folder, CommonOptions.Gateway, CommonOptions.Credentials,
        };
        command.SetAction((parse, cancellation) => CommonOptions.Guard(async () =>
        {
            var name = parse.GetValue(run)!;
            if (!NameRule.IsValid(name)) throw new UserError($"'{name}' is not a run name (1-100 letters, digits, '.', '_' or '-')");
            var directory = new DirectoryInfo(Path.GetFullPath(parse.GetValue(folder)!));
            if (!directory.Exists) throw new UserError($"folder not found: {directory.FullName}");
            var (settleTime, pollTime) = (Seconds(parse.GetValue(settle), "--settle"), Seconds(parse.GetValue(poll), "--poll"));
            var record = WatchJournal.Open(parse.GetValue(journal) is { } path ? Path.GetFullPath(path) : Path.Combine(directory.FullName, $".streaming-watch.{name}.json"), name);
            await using var connection = new Reconnecting(CommonOptions.Target(parse), upload: !parse.GetValue(onSilo));
            var request = new IngestRequest(name, "", parse.GetValue(tokenizer), parse.GetValue(allowDuplicate));
            var watcher = new FolderWatcher(directory, record, (file, corpus, token) => connection.IngestAsync(corpus, request with { Path = file.FullName }, token),
                Console.Out, settleTime, pollTime);
            var sent = record.Files.Count;
            if (!parse.GetValue(once)) Console.WriteLine($"watching {directory.FullName} for run {name} ({sent:N0} files sent before); Ctrl+C stops");
            try
            {
                await watcher.RunAsync(parse.GetValue(once), cancellation);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                Console.WriteLine($"stopped watching {directory.FullName}; the next `streaming watch` goes on from here");
            }
            return 0;
        }));
        return command;
    }

    static TimeSpan Seconds(double value, string option) =>
        value is > 0 and <= 86_400 ? TimeSpan.FromSeconds(value) : throw new UserError($"{option} must be between 0 and 86400 seconds, not {value}");

    /// <summary>A connection to the silo made when first needed and made again after it was lost (a silo restart); ingests
    /// by uploading the file, or (<paramref name="upload"/> false) by naming it for the silo to read.</summary>
    sealed class Reconnecting(SiloTarget silo, bool upload) : IAsyncDisposable
    {
        SiloConnection? connection;

        public async Task<IngestResult> IngestAsync(string corpus, IngestRequest request, CancellationToken cancellation)
        {
            connection ??= await SiloConnection.ConnectAsync(silo, cancellation);
            try
            {
                return upload
                    ? await CorpusUpload.IngestAsync(connection.Client, corpus, request, _ => { }, cancellation)
                    : await connection.Client.IngestAsync(corpus, request, _ => { }, cancellation: cancellation);
            }
            catch (Exception e) when (e is IngestContactLostException || CommonOptions.IsConnectionLost(e))
            {
                await DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            var lost = connection;
            connection = null;
            if (lost is not null)
            {
                try
                {
                    await lost.DisposeAsync();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A connection to a silo that went away may fail to close; it is dropped either way.
                }
            }
        }
    }
}
