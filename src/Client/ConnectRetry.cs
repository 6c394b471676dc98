using System.Diagnostics;

namespace Streaming.Client;

/// <summary>
/// How long the CLI keeps trying to reach a silo: 30 s, enough for one that is still starting (loading
/// libtorch takes a while), short enough that "no silo there" is reported soon; Orleans' own default
/// retries for 3 minutes.
/// </summary>
public sealed class ConnectRetry : IClientConnectionRetryFilter
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(30);
    static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(500);

    readonly Stopwatch watch = Stopwatch.StartNew();

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        if (watch.Elapsed + Pause >= Window) return false;
        await Task.Delay(Pause, cancellationToken);
        return true;
    }
}
