using Streaming.Training.Checkpoints;
using Streaming.Training.Data;

namespace Streaming.Grains;

/// <summary>
/// The silo's corpus roots (<see cref="StreamingOptions.CorpusRoots"/>, <c>--corpus-roots</c>): the folders that a corpus
/// path a client names must lie in, so that a client cannot make the silo read whatever it may read (<c>/etc</c>, other
/// runs' checkpoints). Paths are compared resolved (<see cref="ResolvedPath"/>): a link inside a root that points out of it
/// is outside.
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

    static bool Outside(string path, IReadOnlyList<string> roots) => !roots.Any(root => ResolvedPath.IsWithin(path, root));

    static string Message(string path, IReadOnlyList<string> roots) =>
        $"'{path}' is outside the silo's corpus roots ({string.Join(", ", roots)})";
}
