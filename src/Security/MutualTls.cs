using System.Security.Cryptography.X509Certificates;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Orleans.Hosting;

namespace Streaming.Security;

/// <summary>
/// Mutual TLS on every Orleans connection: silo to silo and client to gateway. Each end presents the cluster credential
/// and accepts the other only if it presents the same one; a peer with no certificate is refused too.
/// </summary>
public static class MutualTls
{
    /// <summary><paramref name="refused"/> hears of each peer that presented another certificate: Orleans only reports a
    /// closed connection, which looks like a peer that is not there.</summary>
    public static ISiloBuilder UseClusterTls(this ISiloBuilder silo, ClusterCredential credential, Action<X509Certificate2> refused) =>
        silo.UseTls(credential.Certificate, options => Configure(options, credential, refused))
            .Configure<ConnectionOptions>(WaitForTheHandshake);

    /// <inheritdoc cref="UseClusterTls(ISiloBuilder, ClusterCredential, Action{X509Certificate2})"/>
    public static IClientBuilder UseClusterTls(this IClientBuilder client, ClusterCredential credential, Action<X509Certificate2> refused) =>
        client.UseTls(credential.Certificate, options => Configure(options, credential, refused))
            .Configure<ConnectionOptions>(WaitForTheHandshake);

    // A connection is opened only once its TLS handshake is done: Orleans' 5 s for opening one would cut short the
    // handshake's own 30 s below and start it over at every retry on a busy machine.
    static void WaitForTheHandshake(ConnectionOptions options) => options.OpenConnectionTimeout = TimeSpan.FromSeconds(30);

    static void Configure(TlsOptions options, ClusterCredential credential, Action<X509Certificate2> refused)
    {
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        // The gateway's own setting; Orleans' default there only asks clients for a certificate.
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        // Pinned: chain and name errors of a self-signed certificate do not matter, only whether it is ours.
        options.RemoteCertificateValidation = (certificate, _, _) =>
        {
            if (credential.Accepts(certificate)) return true;
            refused(certificate);
            return false;
        };
        options.OnAuthenticateAsClient = (_, client) => client.TargetHost = ClusterCredential.Subject;
        // Orleans' 10 s is short for a cold process on a busy machine (a silo starting beside training); a handshake that
        // runs out makes the client wait and try again.
        options.HandshakeTimeout = TimeSpan.FromSeconds(30);
    }
}
