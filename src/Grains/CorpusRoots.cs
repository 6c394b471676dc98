using Streaming.Training.Checkpoints;
using Streaming.Training.Data;

namespace Streaming.Grains;

/// <summary>
/// The silo's corpus roots (<see cref="StreamingOptions.CorpusRoots"/>, <c>--corpus-roots</c>): the folders that a corpus
/// path a client names must lie in, so that a client cannot make the silo read whatever it may read (<c>/etc</c>, other
/// runs' checkpoints). Paths are compared resolved (<see cref="ResolvedPath"/>): a link inside a root that points out of it
/// is outside. A run's pretrained weights (<c>run create --init DIR</c>) are a path a client names too, and lie in the same roots.
/// </summary>
public static class CorpusRoots
{
    /// <summary>Why <paramref name="path"/> may not be read, in one line, or null when it may: always with no roots; with
    /// roots, when it and, for a folder, every file the reader would take from it lie inside one of them.</summary>
    public static string? Refusal(string path, IReadOnlyList<string> roots)
    {
        if (roots.Count == 0) return null;
        if (Outside(path, roots)) return Message(path, roots);
        if (!Directory.Exists(path)) return null;
        try
        {
            // A folder inside a root may hold links that lead out of it.
            return new CorpusReader(path).Files().FirstOrDefault(file => Outside(file, roots)) is { } escaping ? Message(escaping, roots) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CorpusFormatException)
        {
            return null;   // the reader meets the same folder and says what is wrong with it
        }
    }

    /// <summary>Why the pretrained weights at <paramref name="init"/> (<c>--init</c>: a folder, or its model.safetensors) may not be
    /// read, in one line, or null when they may: always with no roots; with roots, when the path and the two files the silo
    /// reads for it lie inside one.</summary>
    public static string? InitRefusal(string init, IReadOnlyList<string> roots)
    {
        if (roots.Count == 0) return null;
        var (weights, config) = HuggingFaceGpt2.PathsOf(init);
        string[] read = [init, config, weights];
        return read.FirstOrDefault(path => Outside(path, roots)) is { } escaping ? $"--init: {Message(escaping, roots)}" : null;
    }

    static bool Outside(string path, IReadOnlyList<string> roots) => !roots.Any(root => ResolvedPath.IsWithin(path, root));

    static string Message(string path, IReadOnlyList<string> roots) =>
        $"'{path}' is outside the silo's corpus roots ({string.Join(", ", roots)})";
}
