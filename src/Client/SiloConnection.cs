using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streaming.Security;

namespace Streaming.Client;

/// <summary>Connects to a silo's client gateway (localhost:30000 by default) over mutual TLS with the cluster credential and hands
/// out its grain factory.</summary>
public sealed class SiloConnection : IAsyncDisposable
{
    public const int DefaultGatewayPort = 30000;

    readonly IHost host;
    readonly ClusterCredential credential;

    SiloConnection(IHost host, ClusterCredential credential)
    {
        this.host = host;
        this.credential = credential;
    }

    public IClusterClient Client => host.Services.GetRequiredService<IClusterClient>();

    /// <summary>Connects, or throws <see cref="UserError"/> with one line saying what to do.</summary>
    public static async Task<SiloConnection> ConnectAsync(SiloTarget target, CancellationToken cancellation)
    {
        ClusterCredential credential;
        try
        {
            credential = CredentialLocation.Resolve(target.Credentials, Environment.GetEnvironmentVariables()).Load();
        }
        catch (CredentialException e)
        {
            throw new UserError(e.Message);
        }
        var retry = new ConnectRetry();
        var host = new HostBuilder()
            .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.None))
            .UseOrleansClient(c => c
                .UseLocalhostClustering(target.GatewayPort, "streaming", "streaming")
                .UseClusterTls(credential, retry.Refused)
                .UseConnectionRetryFilter(retry))
            .Build();
        try
        {
            await host.StartAsync(cancellation);
            return new SiloConnection(host, credential);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            host.Dispose();
            credential.Dispose();
            throw new UserError(retry.RefusedSilo is { } other
                ? $"the silo at localhost:{target.GatewayPort} refused this client's credentials: it holds another cluster credential "
                    + $"(certificate {other}, this client's {credential.Fingerprint}); give the silo's with --credentials FILE or {CredentialLocation.Variable}"
                : $"cannot reach a silo on localhost:{target.GatewayPort} (is streaming-silo running?)");
        }
    }

    /// <summary>Closes the connection; a silo that is gone gets a few seconds to answer, not the client's whole patience.</summary>
    public async ValueTask DisposeAsync()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await host.StopAsync(limit.Token);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            // Closing is given up; the process lets go of the connection either way.
        }
        host.Dispose();
        credential.Dispose();
    }
}
