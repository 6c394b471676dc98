namespace Streaming.Grains;

/// <summary>
/// Grain state that cannot be read (or would not read back once written). The message is one line that names
/// the grain and the reason; a client gets it in place of the grain's answer, the silo's log has the rest.
/// </summary>
[GenerateSerializer]
public sealed class UnreadableStateException : Exception
{
    public UnreadableStateException() { }

    public UnreadableStateException(string message) : base(message) { }

    /// <summary>The one in <paramref name="e"/> or its inner exceptions: Orleans wraps it when an activation fails on it.</summary>
    public static UnreadableStateException? In(Exception? e) =>
        e is null ? null : e as UnreadableStateException ?? In(e.InnerException);
}
