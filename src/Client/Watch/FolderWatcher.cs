using Streaming.Client.Commands;
using Streaming.Grains;

namespace Streaming.Client.Watch;

/// <summary>Sends one file to the run as its next task (the corpus named <paramref name="corpus"/>); throws as an ingest does.</summary>
public delegate Task<IngestResult> SendCorpus(FileInfo file, string corpus, CancellationToken cancellation);

/// <summary>
/// Turns every new complete file of a folder into the run's next task, once. Each look at the folder (every
/// <paramref name="poll"/>) sends the files that have become complete (<see cref="SettlingFiles"/>), one at a time in
/// their order, and records each in the <paramref name="journal"/> before it is sent and after it is answered; a file
/// the journal lists is not sent again. A silo that cannot be reached holds the queue back (nothing later is sent
/// before it) and is tried again at the next look. A queued file that is removed or rewritten is said once and not
/// trained again; a refused file is tried again once it changes. Says what it does, one line each, on <paramref name="output"/>.
/// </summary>
public sealed class FolderWatcher(DirectoryInfo folder, WatchJournal journal, SendCorpus send, TextWriter output, TimeSpan settle, TimeSpan poll)
{
    readonly SettlingFiles settling = new(settle);
    bool unreachable;   // the last send could not reach the silo (said once until one gets through)

    /// <summary>Watches until cancelled; with <paramref name="once"/>, until every file there now is sent (or refused)
    /// and then returns, and a silo out of reach is a <see cref="UserError"/>.</summary>
    public async Task RunAsync(bool once, CancellationToken cancellation)
    {
        while (true)
        {
            var listing = List();
            ReportChanges(listing);
            var blocked = !await SendUnansweredAsync(cancellation);
            if (!blocked)
            {
                var waiting = listing.Where(f => SettlingFiles.IsCandidate(f.Name) && !Handled(f)).ToList();
                foreach (var file in settling.Ready(waiting, DateTimeOffset.UtcNow))
                    if (!await SendAsync(file, cancellation))
                    {
                        blocked = true;
                        break;
                    }
            }
            if (once && !blocked && List().All(f => !SettlingFiles.IsCandidate(f.Name) || Handled(f))) return;
            if (blocked) await WaitOrFail(once, cancellation);
            else await Task.Delay(poll, cancellation);
        }
    }

    /// <summary>Sends again, in their order, the files sent without an answer (the silo went away, or an earlier watcher
    /// stopped): they go before anything newer, and are queued once either way. False when the silo is still out of reach.</summary>
    async Task<bool> SendUnansweredAsync(CancellationToken cancellation)
    {
        foreach (var pending in journal.Files.Where(f => f.State == WatchedState.Sending).ToList())
        {
            var file = new FileInfo(Path.Combine(folder.FullName, pending.Name));
            if (!file.Exists)
                Put(pending with { State = WatchedState.Refused, Outcome = "removed before the silo answered" },
                    $"{pending.Name} was removed before the silo answered whether it was queued: see `streaming status --run {journal.Run}`");
            else if (!await SendAsync(file, cancellation)) return false;
        }
        return true;
    }

    /// <summary>Whether the journal holds this file already: sent (whatever became of it since), or refused and unchanged.</summary>
    bool Handled(FileInfo file) => journal.Find(file.Name) is { } entry
        && (entry.State != WatchedState.Refused || entry.Matches(file));

    /// <summary>Sends one file and records the answer; false when the silo could not be reached (send it again later).</summary>
    async Task<bool> SendAsync(FileInfo file, CancellationToken cancellation)
    {
        var corpus = NameRule.CorpusNameOf(file.Name);
        var entry = new WatchedFile(file.Name, file.Length, file.LastWriteTimeUtc, corpus, WatchedState.Sending);
        if (!NameRule.IsValid(corpus))
        {
            Put(entry with { State = WatchedState.Refused, Outcome = "no valid corpus name" },
                $"not queued {file.Name}: '{corpus}' is not a corpus name (1-100 letters, digits, '.', '_' or '-'): rename the file");
            return true;
        }
        journal.Put(entry);
        IngestResult result;
        try
        {
            result = await send(file, corpus, cancellation);
        }
        catch (Exception e) when (IsUnreachable(e))
        {
            if (!unreachable) Say($"cannot send {file.Name} now: {Reason(e)}; trying again every {poll.TotalSeconds:G3} s");
            unreachable = true;
            return false;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            unreachable = false;
            Put(entry with { State = WatchedState.Refused, Outcome = Reason(e) }, $"not queued {file.Name}: {Reason(e)} (replace or touch the file to try again)");
            return true;
        }
        unreachable = false;
        Put(entry with { State = WatchedState.Queued, Outcome = result.Describe() }, result.AlreadyQueued
            ? $"{file.Name} is already queued on run {journal.Run} as corpus {result.Name}: {result.Describe()}"
            : $"queued {file.Name} on run {journal.Run} as corpus {result.Name}: {result.Describe()}");
        return true;
    }

    /// <summary>Says, once each, that a queued file was removed or rewritten: its task stays as it was trained.</summary>
    void ReportChanges(IReadOnlyList<FileInfo> listing)
    {
        foreach (var entry in journal.Files.Where(f => f.State == WatchedState.Queued).ToList())
        {
            var file = listing.FirstOrDefault(f => f.Name == entry.Name);
            var change = file is null ? "removed" : entry.Matches(file) ? null : $"rewritten {file.Length} {file.LastWriteTimeUtc:O}";
            if (change is null || change == entry.Reported) continue;
            Put(entry with { Reported = change }, file is null
                ? $"{entry.Name} was removed; it was queued as corpus {entry.Corpus}, which the run keeps"
                : $"{entry.Name} changed after it was queued as corpus {entry.Corpus}: not trained again (copy it under a new name to train it as a new task)");
        }
    }

    IReadOnlyList<FileInfo> List()
    {
        try
        {
            return [.. folder.EnumerateFiles()];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserError($"cannot read the watched folder {folder.FullName}: {e.Message.Split('\n')[0]}");
        }
    }

    async Task WaitOrFail(bool once, CancellationToken cancellation)
    {
        if (once) throw new UserError("the silo could not be reached; what is not sent yet is sent by the next `streaming watch`");
        await Task.Delay(poll, cancellation);
    }

    void Put(WatchedFile entry, string line)
    {
        journal.Put(entry);
        Say(line);
    }

    void Say(string line) => output.WriteLine($"{DateTime.Now:HH:mm:ss} {line}");

    /// <summary>No answer came from a silo (none reachable, the connection lost, contact lost mid-ingest): the file may be sent again.</summary>
    static bool IsUnreachable(Exception e) => e is UserError or IngestContactLostException || CommonOptions.IsConnectionLost(e);

    static string Reason(Exception e) => e is UserError ? e.Message : CommonOptions.Describe(e);
}
