using System.Security.Cryptography.X509Certificates;
using Streaming.Security;

namespace Streaming.Silo;

/// <summary>
/// Says on stderr that a peer (a silo or a client) presented another cluster credential: Orleans itself only sees a
/// closed connection, and a silo that cannot join would otherwise just be declared dead. At most one line a minute, so
/// that a peer retrying (or anyone knocking at the ports) cannot flood the log.
/// </summary>
public sealed class RefusedPeerLog(ClusterCredential credential)
{
    static readonly TimeSpan Quiet = TimeSpan.FromMinutes(1);
    long nextTicks;

    public void Refused(X509Certificate2 peer)
    {
        var now = DateTime.UtcNow.Ticks;
        var next = Interlocked.Read(ref nextTicks);
        if (now < next || Interlocked.CompareExchange(ref nextTicks, now + Quiet.Ticks, next) != next) return;
        Console.Error.WriteLine($"warning: refused a connection from a peer that holds another cluster credential (certificate "
            + $"{ClusterCredential.FingerprintOf(peer)}, this silo's {credential.Fingerprint}); silos and clients of a cluster need the same --credentials");
    }
}
