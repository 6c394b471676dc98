using Streaming.Grains;
using Streaming.Training.Native;

namespace Streaming.Silo;

/// <summary>Builds the web host: Orleans with localhost clustering, memory streams, grain storage, /health.</summary>
public static class SiloHost
{
    public static WebApplication Build(SiloSettings settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://0.0.0.0:{settings.HttpPort}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: "streaming", clusterId: "streaming")
            .AddStreaming(o =>
            {
                o.DataDirectory = Path.GetFullPath(settings.DataDirectory);
                o.CheckpointEvery = settings.CheckpointEvery;
                o.Storage = settings.Storage;
                o.RedisConnectionString = settings.Redis;
                o.Torch = new TorchOptions { Device = settings.Device, LibTorchDirectory = settings.LibTorch, Threads = settings.Threads };
            }));
        var app = builder.Build();
        app.MapGet("/health", () => Results.Text("ok"));
        return app;
    }
}
