using System.Text.Json;
using System.Text.Json.Serialization;

namespace Streaming.Client.Watch;

/// <summary>What the watcher did with one file of the folder.</summary>
public enum WatchedState
{
    /// <summary>Being ingested: asked, no answer yet (a watcher that stopped here asks again, first).</summary>
    Sending,

    /// <summary>Queued on the run as a task (or found queued already).</summary>
    Queued,

    /// <summary>The silo refused it (bad input, a duplicate, a name taken); tried again only once the file changes.</summary>
    Refused,
}

/// <summary>
/// One file as the watcher recorded it: its name in the folder, its size and last write time when it was sent, the
/// corpus it became, and what came of it. <see cref="Reported"/>: the last change (removal, rewrite) already said, so
/// each is said once.
/// </summary>
public sealed record WatchedFile(string Name, long Size, DateTime LastWriteUtc, string Corpus, WatchedState State,
    string? Outcome = null, string? Reported = null)
{
    /// <summary>Whether the file on disk is still the one sent (same size and last write time).</summary>
    public bool Matches(FileInfo file) => file.Length == Size && file.LastWriteTimeUtc == LastWriteUtc;
}

/// <summary>
/// The watcher's record of one folder for one run, in the order files were sent: what makes a file a task exactly once
/// across restarts of the watcher (the silo's side: the same source on the same run is found queued, not queued again).
/// Saved after every change, atomically (written beside, flushed, renamed over), so a killed watcher finds the last
/// complete record.
/// </summary>
public sealed class WatchJournal
{
    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    readonly string path;
    readonly List<WatchedFile> files;

    WatchJournal(string path, string run, List<WatchedFile> files)
    {
        this.path = path;
        Run = run;
        this.files = files;
    }

    public string Run { get; }

    public IReadOnlyList<WatchedFile> Files => files;

    public WatchedFile? Find(string name) => files.Find(f => f.Name == name);

    /// <summary>The journal at <paramref name="path"/> (a new one when there is none); one of another run, or unreadable, is a <see cref="UserError"/>.</summary>
    public static WatchJournal Open(string path, string run)
    {
        if (!File.Exists(path)) return new WatchJournal(path, run, []);
        Record? record;
        try
        {
            record = JsonSerializer.Deserialize<Record>(File.ReadAllText(path), Json);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new UserError($"the watch journal {path} is unreadable ({e.Message.Split('\n')[0]}): move it away to start over (files in it would be sent again)");
        }
        if (record?.Run is not { } recorded || record.Files is null) throw new UserError($"the watch journal {path} is not one this client wrote: move it away or give another --journal");
        if (recorded != run) throw new UserError($"the watch journal {path} belongs to run '{recorded}', not '{run}': give another --journal");
        return new WatchJournal(path, run, record.Files);
    }

    /// <summary>Records <paramref name="file"/> (replacing the entry of the same name) and saves.</summary>
    public void Put(WatchedFile file)
    {
        var at = files.FindIndex(f => f.Name == file.Name);
        if (at < 0) files.Add(file);
        else files[at] = file;
        Save();
    }

    void Save()
    {
        var temporary = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
            {
                JsonSerializer.Serialize(stream, new Record(Run, files), Json);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserError($"cannot write the watch journal {path} ({e.Message.Split('\n')[0]}): give a writable --journal");
        }
    }

    sealed record Record(string Run, List<WatchedFile> Files);
}
