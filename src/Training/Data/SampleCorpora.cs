namespace Streaming.Training.Data;

/// <summary>The corpora shipped in the repository (samples/corpora), found from the working folder or the app.</summary>
public static class SampleCorpora
{
    /// <summary>The demo's stream: three strongly different corpora, trained in this order.</summary>
    public static IReadOnlyList<string> DemoOrder { get; } = ["english", "german", "code"];

    /// <summary>The path of a shipped corpus file, e.g. samples/corpora/english/english.jsonl.</summary>
    public static string File(string name)
    {
        var path = Path.Combine(Folder(), name, name + ".jsonl");
        return System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"sample corpus '{name}' is missing ({path})");
    }

    /// <summary>samples/corpora above the working folder or above the application.</summary>
    public static string Folder()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "samples", "corpora");
                if (Directory.Exists(candidate)) return candidate;
            }
        throw new FileNotFoundException("the sample corpora (samples/corpora) were not found above the working folder; run from the repository");
    }
}
