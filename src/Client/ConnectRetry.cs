using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Streaming.Security;

namespace Streaming.Client;

/// <summary>
/// How long the CLI keeps trying to reach a silo: 30 s, enough for one that is still starting (loading
/// libtorch takes a while), short enough that "no silo there" is reported soon; Orleans' own default
/// retries for 3 minutes.
/// </summary>
public sealed class ConnectRetry : IClientConnectionRetryFilter
{
    /// <summary>The fingerprint of the certificate a silo presented that is not this client's credential; null while none.</summary>
    public string? RefusedSilo { get; private set; }

    /// <summary>Called by the TLS handshake when the silo's certificate is not the cluster credential.</summary>
    public void Refused(X509Certificate2 silo) => RefusedSilo = ClusterCredential.FingerprintOf(silo);

    public static readonly TimeSpan Window = TimeSpan.FromSeconds(30);
    static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(500);

    readonly Stopwatch watch = Stopwatch.StartNew();

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        // Another credential stays another credential: no point waiting for it.
        if (RefusedSilo is not null || watch.Elapsed + Pause >= Window) return false;
        await Task.Delay(Pause, cancellationToken);
        return true;
    }
}
