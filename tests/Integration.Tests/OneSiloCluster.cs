using Orleans.TestingHost;
using Streaming.Grains;
using Streaming.Training.Native;

namespace Streaming.Integration.Tests;

/// <summary>A one-silo in-process test cluster with Streaming's grains on CPU, memory grain state and a temporary data folder.</summary>
public abstract class OneSiloCluster(string name) : IAsyncLifetime
{
    protected string Data { get; } = Directory.CreateTempSubdirectory($"streaming-{name}-").FullName;
    protected InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The test's model, schedule and sizes.</summary>
    protected abstract void Configure(StreamingOptions options);

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddStreaming(o =>
        {
            o.DataDirectory = Data;
            o.Storage = "memory";
            o.Torch = new TorchOptions { Device = "cpu", Threads = 1 };
            Configure(o);
        }));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Directory.Delete(Data, recursive: true);
    }
}
