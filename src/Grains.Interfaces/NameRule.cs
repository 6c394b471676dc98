using System.Text.RegularExpressions;

namespace Streaming.Grains;

/// <summary>
/// The run and corpus names a silo accepts (they become folder names), so that a client can refuse a bad name
/// before it calls. The silo checks every name itself with the training library's rule; a test keeps
/// <see cref="Pattern"/> equal to that rule's.
/// </summary>
public static partial class NameRule
{
    /// <summary>1-100 letters, digits, '.', '_' or '-', starting with a letter or digit.</summary>
    public const string Pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$";

    public static bool IsValid(string name) => Regex().IsMatch(name);

    /// <summary>
    /// The corpus name a path gives when none is chosen: the file or folder name without its extension, and without
    /// the format's too when the last is a compression ("news.jsonl.zst" is news, as news.jsonl would be). Of a URL, the
    /// file name its path ends in (https://host/dumps/news.jsonl.zst?v=2 is news too).
    /// </summary>
    public static string CorpusNameOf(string path)
    {
        var name = CorpusSource.IsUrl(path, out var url) ? CorpusSource.FileNameOf(url) : Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
        var compressed = Path.GetExtension(name).ToLowerInvariant() is ".gz" or ".zst";
        name = Path.GetFileNameWithoutExtension(name);
        return compressed ? Path.GetFileNameWithoutExtension(name) : name;
    }

    [GeneratedRegex(Pattern)]
    private static partial Regex Regex();
}
