namespace Streaming.Security;

/// <summary>A cluster credential that cannot be found, read or written, said in one line (never with a secret in it).</summary>
public sealed class CredentialException(string message) : Exception(message);
