using Streaming.Training.Data;

namespace Streaming.Training.Checkpoints;

/// <summary>
/// The folders of one run, the only place their layout is written: <c>checkpoints/</c> (resume points, kept by a
/// <see cref="CheckpointStore"/>), <c>releases/</c> (kept for ever) and <c>snapshots/</c> (the main cadence's, deleted
/// once evaluated), all under <see cref="Root"/>.
/// </summary>
public sealed record RunFolders(string Root)
{
    public string Checkpoints => Path.Combine(Root, "checkpoints");
    public string Releases => Path.Combine(Root, "releases");
    public string Snapshots => Path.Combine(Root, "snapshots");

    /// <summary>The run's folders under a data folder (<c>DATA/runs/RUN</c>). A name that is not a plain folder name
    /// (rooted, with <c>..</c> or a separator) would put them anywhere: refused with <see cref="ArgumentException"/>.</summary>
    public static RunFolders In(string dataDirectory, string run) =>
        CorpusIngestor.IsValidName(run)
            ? new(Path.Combine(Path.GetFullPath(dataDirectory), "runs", run))
            : throw new ArgumentException($"'{run}' is not a valid run name: 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit");

    /// <summary>Whether <paramref name="path"/> is a release or a snapshot of this run, symbolic links resolved.</summary>
    public bool HoldsModel(string path) => ResolvedPath.IsWithin(path, Releases, orItself: false) || HoldsSnapshot(path);

    /// <summary>Whether <paramref name="path"/> is one of this run's temporary snapshots, symbolic links resolved.</summary>
    public bool HoldsSnapshot(string path) => ResolvedPath.IsWithin(path, Snapshots, orItself: false);
}
