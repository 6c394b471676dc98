using System.Net;
using Orleans.Configuration;
using OpenTelemetry.Metrics;
using Streaming.Grains;
using Streaming.Grains.Telemetry;
using Streaming.Security;
using Streaming.Training.Native;

namespace Streaming.Silo;

/// <summary>Builds the web host: Orleans (localhost or Redis clustering, mutual TLS with the cluster credential), memory streams,
/// grain storage, /health and /metrics (plain HTTP, read-only).</summary>
public static class SiloHost
{
    const string ServiceId = "streaming", ClusterId = "streaming";

    /// <summary>How long a stop (SIGTERM, Ctrl+C) may take: within the Kubernetes grace period of a GPU silo (120 s).</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(100);

    public static WebApplication Build(SiloSettings settings, ClusterCredential credential)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://0.0.0.0:{settings.HttpPort}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Stopping waits for every training thread to finish its step and let go of libtorch: a process that exits
        // under a thread still in a step tears libtorch down beneath it (seen: "Could not run 'aten::...' with
        // arguments from the 'CPU' backend", then a segfault). The host's 30 s default is short for a big model on CPU.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        // Orleans 10.4.2's watchdog warns at every start of a stall as long as the machine's uptime (seen here);
        // real stalls still show in Orleans' metrics.
        builder.Logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
        // A refused TLS peer is one line from RefusedPeerLog (at most one a minute); Orleans would log a stack trace for each.
        builder.Logging.AddFilter("Orleans.Connections.Security", LogLevel.Error);
        builder.UseOrleans(silo => silo
            .UseClustering(settings)
            .UseClusterTls(credential, new RefusedPeerLog(credential).Refused)
            .AddStreaming(o =>
            {
                o.DataDirectory = Path.GetFullPath(settings.DataDirectory);
                o.CheckpointEvery = settings.CheckpointEvery;
                o.ReplayFraction = settings.ReplayFraction;
                o.EvaluateEvery = settings.EvaluateEvery;
                o.Storage = settings.Storage;
                o.RedisConnectionString = settings.Redis;
                o.Torch = new TorchOptions { Device = settings.Device, LibTorchDirectory = settings.LibTorch, Threads = settings.Threads };
                o.Accelerator = settings.Accelerator;
                o.TrainerSlots = settings.Trainers;
                o.MinFreeDataBytes = (long)settings.MinFreeMiB << 20;
                o.CorpusRoots = [.. settings.CorpusRootFolders];
                o.MaxDownloadBytes = (long)settings.MaxDownloadMiB << 20;
                o.MaxUploadBytes = (long)settings.MaxUploadMiB << 20;
                // One silo keeps reminders in its own memory; a cluster keeps them where every silo can take them over.
                o.Reminders = settings.Cluster == "redis" ? "redis" : "silo";
            }));
        // The metrics contract (docs/observability.md), Orleans' own meter and the .NET runtime's, in Prometheus text on /metrics.
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(StreamingMetrics.MeterName, "Microsoft.Orleans", "System.Runtime")
            .AddPrometheusExporter());
        builder.Services.AddSiloHealth();
        var app = builder.Build();
        // The HTTP port has no authentication (probes, Prometheus), so it serves reads only: whatever changes state goes
        // through the gateway, behind mutual TLS.
        app.Use(async (context, next) =>
        {
            if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
            {
                await next(context);
                return;
            }
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.Headers.Allow = "GET, HEAD";
        });
        app.MapSiloHealth();
        app.MapPrometheusScrapingEndpoint();
        return app;
    }

    static ISiloBuilder UseClustering(this ISiloBuilder silo, SiloSettings settings)
    {
        if (settings.Cluster != "redis")
            return silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: ServiceId, clusterId: ClusterId);
        var redis = StreamingSiloBuilderExtensions.ParseRedis(settings.Redis, "--cluster redis");
        return silo
            .UseRedisClustering(o => o.ConfigurationOptions = redis.Clone())
            .Configure<ClusterOptions>(o =>
            {
                o.ServiceId = ServiceId;
                o.ClusterId = ClusterId;
            })
            .Configure<EndpointOptions>(o =>
            {
                o.SiloPort = settings.SiloPort;
                o.GatewayPort = settings.GatewayPort;
                // Without --advertise-ip, Orleans advertises an address of this host (its first non-loopback IPv4).
                if (settings.AdvertiseIp is not null) o.AdvertisedIPAddress = IPAddress.Parse(settings.AdvertiseIp);
                // Listen on every interface: the advertised address may be a NAT's or a pod network's, and a client on
                // this machine (`streaming` finds a silo on localhost) must still reach the gateway.
                o.SiloListeningEndpoint = new IPEndPoint(IPAddress.Any, settings.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Any, settings.GatewayPort);
            });
    }
}
