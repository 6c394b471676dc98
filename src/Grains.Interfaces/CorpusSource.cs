using System.Diagnostics.CodeAnalysis;

namespace Streaming.Grains;

/// <summary>
/// What a client may name as a corpus' source (<see cref="IngestRequest.Path"/>): a path on the silo's file system, or
/// an http:// or https:// URL that the silo downloads. Client and silo tell them apart with the same rule.
/// </summary>
public static class CorpusSource
{
    /// <summary>Whether <paramref name="source"/> is an http(s) URL (anything else is a path).</summary>
    public static bool IsUrl(string source, [NotNullWhen(true)] out Uri? url)
    {
        url = Uri.TryCreate(source, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https" ? parsed : null;
        return url is not null;
    }

    /// <summary>The file name a URL's path ends in, unescaped ("news.jsonl.zst" of https://host/dumps/news.jsonl.zst?v=2);
    /// empty when the path ends in '/'.</summary>
    public static string FileNameOf(Uri url) => Path.GetFileName(Uri.UnescapeDataString(url.AbsolutePath));
}
