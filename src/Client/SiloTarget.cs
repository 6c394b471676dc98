namespace Streaming.Client;

/// <summary>Which silo a command talks to: its gateway port on localhost, and the cluster credential to show it (null:
/// <see cref="Streaming.Security.CredentialLocation"/>'s variable or default file).</summary>
public sealed record SiloTarget(int GatewayPort, string? Credentials);
