namespace Streaming.Training.Checkpoints;

/// <summary>A checkpoint cannot be written or read; the message is one line meant for a user.</summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public CheckpointException(string message) : base(message) { }

    /// <summary>Creates the exception with a one-line message and the underlying cause.</summary>
    public CheckpointException(string message, Exception inner) : base(message, inner) { }
}
