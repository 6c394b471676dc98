using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Streaming.Client;

/// <summary>Connects to a silo's client gateway (localhost:30000 by default) and hands out its grain factory.</summary>
public sealed class SiloConnection : IAsyncDisposable
{
    public const int DefaultGatewayPort = 30000;

    readonly IHost host;

    SiloConnection(IHost host) => this.host = host;

    public IClusterClient Client => host.Services.GetRequiredService<IClusterClient>();

    /// <summary>Connects, or throws <see cref="UserError"/> with one line saying what to do.</summary>
    public static async Task<SiloConnection> ConnectAsync(int gatewayPort, CancellationToken cancellation)
    {
        var host = new HostBuilder()
            .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.None))
            .UseOrleansClient(c => c.UseLocalhostClustering(gatewayPort, "streaming", "streaming").UseConnectionRetryFilter(new ConnectRetry()))
            .Build();
        try
        {
            await host.StartAsync(cancellation);
            return new SiloConnection(host);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            host.Dispose();
            throw new UserError($"cannot reach a silo on localhost:{gatewayPort} (is streaming-silo running?)");
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
    }
}
