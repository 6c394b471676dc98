namespace Streaming.Client;

/// <summary>A mistake or a state the user can fix; printed as one line, never as a stack trace.</summary>
public sealed class UserError(string message) : Exception(message);
