namespace Streaming.Training.Checkpoints;

/// <summary>
/// The one owner of a run's checkpoint folder. It names checkpoints (<c>step-N</c>, N the optimizer steps executed,
/// which never go back), writes them, keeps the newest two and every one from the checkpoint its owner last
/// acknowledged (the one the owner would resume from), finds the newest complete one, and clears what interrupted
/// saves left behind when it is opened. Nobody else builds or parses a checkpoint's folder name.
/// Used from one thread at a time (the training thread), except <see cref="Acknowledge"/>, which any thread may call.
/// </summary>
public sealed class CheckpointStore
{
    const string Prefix = "step-";

    readonly bool ownerAcknowledges;
    readonly List<string> kept;   // complete checkpoints, oldest first
    volatile string? acknowledged;

    /// <param name="directory">The folder of this run's checkpoints (created on the first save).</param>
    /// <param name="ownerAcknowledges">Whether the owner calls <see cref="Acknowledge"/> once it has durably recorded a checkpoint
    /// to resume from; until it does, nothing is deleted.</param>
    public CheckpointStore(string directory, bool ownerAcknowledges = false)
    {
        Directory = Path.GetFullPath(directory);
        this.ownerAcknowledges = ownerAcknowledges;
        Checkpoint.RemoveTemporaries(Directory);
        kept = [.. Complete().Select(c => c.Path)];
    }

    public string Directory { get; }

    /// <summary>The newest checkpoint in the folder that is complete (its manifest written last, so present only when
    /// everything else is); null when there is none. <paramref name="verify"/> also checks every file's hash and skips
    /// the ones that fail.</summary>
    public string? Newest(bool verify = false) =>
        Complete().Reverse().Select(c => c.Path).FirstOrDefault(path => !verify || Verifies(path));

    /// <summary>Writes the checkpoint of <paramref name="stepsExecuted"/> with <paramref name="save"/> (given the folder to
    /// write, atomically), then deletes the older ones nobody may resume from. Returns its folder; a checkpoint of that step
    /// that this store wrote already is kept as it is (nothing has happened since), unless <paramref name="replace"/> (the loop's
    /// state changed without a step: a release of the weight average), when it is rewritten in place.</summary>
    public string Save(long stepsExecuted, Action<string> save, bool replace = false)
    {
        var path = Path.Combine(Directory, $"{Prefix}{stepsExecuted:D8}");
        if (kept.Count > 0 && kept[^1] == path && !replace) return path;
        save(path);
        kept.Remove(path);
        kept.Add(path);
        var acknowledged = this.acknowledged;
        while (kept.Count > 2 && (acknowledged is null ? !ownerAcknowledges : kept[0] != acknowledged))
        {
            System.IO.Directory.Delete(kept[0], recursive: true);
            kept.RemoveAt(0);
        }
        return path;
    }

    /// <summary>The owner has durably recorded <paramref name="path"/> as the checkpoint to resume from: older ones may go.</summary>
    public void Acknowledge(string path) => acknowledged = Path.GetFullPath(path);

    IEnumerable<(string Path, long Steps)> Complete() =>
        !System.IO.Directory.Exists(Directory) ? [] : System.IO.Directory.GetDirectories(Directory, Prefix + "*")
            .Select(d => (Path: d, Steps: long.TryParse(Path.GetFileName(d)[Prefix.Length..], out var n) ? n : -1))
            .Where(d => d.Steps >= 0 && File.Exists(Path.Combine(d.Path, Checkpoint.ManifestFile)))
            .OrderBy(d => d.Steps);

    static bool Verifies(string path)
    {
        try
        {
            Checkpoint.Verify(path);
            return true;
        }
        catch (CheckpointException)
        {
            return false;
        }
    }
}
