namespace Streaming.Load;

/// <summary>Small text corpora, each distinct (its own seed, and its number in every paragraph): paragraphs of common words
/// separated by blank lines, so each holds many documents and a validation split.</summary>
public static class GeneratedCorpora
{
    static readonly string[] Words =
        "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they river stone light".Split(' ');

    /// <summary>Writes corpus <paramref name="index"/> of about <paramref name="bytes"/> bytes into <paramref name="folder"/>; returns its path.</summary>
    public static string Write(string folder, int index, int bytes)
    {
        var random = new Random(index);
        var path = Path.Combine(folder, $"corpus-{index:D3}.txt");
        using var text = new StreamWriter(path);
        var written = 0;
        while (written < bytes)
        {
            var paragraph = $"corpus {index} " + string.Join(' ', Enumerable.Range(0, random.Next(20, 60)).Select(_ => Words[random.Next(Words.Length)])) + ".\n\n";
            text.Write(paragraph);
            written += paragraph.Length;
        }
        return path;
    }
}
