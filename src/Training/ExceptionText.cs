namespace Streaming.Training;

/// <summary>An exception as the one line a user or a status sees (the log keeps the whole exception).</summary>
public static class ExceptionText
{
    /// <summary>The exception at the bottom of the chain: often the one that says what actually went wrong.</summary>
    public static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;

    /// <summary>The first line of a message, trimmed.</summary>
    public static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return (end < 0 ? message : message[..end]).Trim();
    }
}
