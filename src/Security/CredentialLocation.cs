using System.Collections;

namespace Streaming.Security;

/// <summary>
/// Where the cluster credential is: the file given (<c>--credentials</c>, or <see cref="Variable"/>), else the user's
/// own default, <c>$XDG_CONFIG_HOME/streaming/cluster.pfx</c> (<c>~/.config/streaming/cluster.pfx</c>), which a silo
/// creates at its first start and a client on the same machine finds.
/// </summary>
public sealed record CredentialLocation(string Path, bool IsDefault)
{
    public const string Variable = "STREAMING_CREDENTIALS";

    /// <summary>The flag's value when given, else the variable's, else the default.</summary>
    public static CredentialLocation Resolve(string? flag, IDictionary environment)
    {
        if (!string.IsNullOrWhiteSpace(flag)) return new(flag, false);
        if (environment[Variable] is string { Length: > 0 } variable) return new(variable, false);
        return new(DefaultPath(environment), true);
    }

    public static string DefaultPath(IDictionary environment)
    {
        var config = environment["XDG_CONFIG_HOME"] is string { Length: > 0 } xdg
            ? xdg
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return System.IO.Path.Combine(config, "streaming", "cluster.pfx");
    }

    /// <summary>The silo's credential: a default that is missing is created (first start); a file given must exist.</summary>
    public ClusterCredential LoadOrCreate() => IsDefault ? ClusterCredential.LoadOrCreate(Path) : ClusterCredential.Load(Path);

    /// <summary>The client's credential: it never creates one (a new one would match no silo).</summary>
    public ClusterCredential Load()
    {
        try
        {
            return ClusterCredential.Load(Path);
        }
        catch (CredentialException) when (IsDefault && !File.Exists(Path))
        {
            throw new CredentialException($"no cluster credential at '{Path}' (a silo creates it at its first start on this machine); "
                + $"give the silo's with --credentials FILE or {Variable}");
        }
    }
}
