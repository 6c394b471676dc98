namespace Streaming.Training.Data;

/// <summary>Opening the files of a corpus.</summary>
internal static class CorpusFiles
{
    /// <summary>
    /// Opens a corpus file for reading. One that cannot be opened (a dangling symbolic link, a link to itself, no
    /// permission) is one <see cref="CorpusFormatException"/> line naming it: its name says it holds corpus text, so,
    /// like a damaged compressed file, it is not skipped unnoticed.
    /// </summary>
    public static FileStream OpenRead(string file, int bufferSize = 4096, FileOptions options = FileOptions.None)
    {
        try
        {
            return new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CorpusFormatException($"{file}: cannot be read ({ExceptionText.FirstLine(e.Message).TrimEnd('.')})");
        }
    }
}
