using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.TestingHost;
using Streaming.Grains;
using Streaming.Grains.Placement;
using Streaming.Training.Native;

namespace Streaming.Integration.Tests;

/// <summary>Trainers go to the silo labelled cuda when the cluster has one, and anywhere when it has none.</summary>
public sealed class PlacementTests : IAsyncDisposable
{
    const int Runs = 10;
    readonly string data = Directory.CreateTempSubdirectory("streaming-placement-").FullName;
    InProcessTestCluster? cluster;

    [Fact]
    public async Task TrainersGoToTheCudaSiloWhenThereIsOne()
    {
        // Three silos; only the second is labelled cuda, so neither the first silo nor chance explains the result.
        cluster = await StartAsync(silos: 3, cudaSilo: "Silo_1");
        var cuda = cluster.Silos.Single(s => s.Name == "Silo_1").SiloAddress.ToString();

        var placed = await ActivateTrainersAsync(cluster);

        Assert.All(placed, silo => Assert.Equal(cuda, silo));
    }

    [Fact]
    public async Task TrainersStillActivateWithoutCudaSilos()
    {
        cluster = await StartAsync(silos: 2, cudaSilo: null);
        var silos = cluster.Silos.Select(s => s.SiloAddress.ToString()).ToHashSet();

        var placed = await ActivateTrainersAsync(cluster);

        Assert.Equal(Runs, placed.Count);
        Assert.All(placed, silo => Assert.Contains(silo, silos));
    }

    /// <summary>Activates trainers of runs without corpora (nothing trains) and returns the silo each one reports.</summary>
    static async Task<List<string>> ActivateTrainersAsync(InProcessTestCluster cluster)
    {
        var placed = new List<string>();
        for (var i = 0; i < Runs; i++)
        {
            var status = await cluster.Client.GetGrain<ITrainerGrain>($"placement-{Guid.NewGuid():N}").GetStatusAsync();
            Assert.Equal("idle", status.Phase);
            Assert.Empty(status.Corpora);
            placed.Add(status.Silo);
        }
        return placed;
    }

    async Task<InProcessTestCluster> StartAsync(int silos, string? cudaSilo)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.ConfigureSilo((silo, host) => host.AddStreaming(o =>
        {
            o.DataDirectory = data;
            o.Storage = "memory";
            o.Torch = new TorchOptions { Device = "cpu", Threads = 1 };
            o.Accelerator = silo.SiloName == cudaSilo ? SiloAccelerator.Cuda : SiloAccelerator.Cpu;
        }));
        var started = builder.Build();
        await started.DeployAsync();
        await WaitForSiloMetadataAsync(started);
        return started;
    }

    /// <summary>Each silo learns the others' metadata shortly after they join; place nothing before every silo knows every label.</summary>
    static async Task WaitForSiloMetadataAsync(InProcessTestCluster cluster)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var addresses = cluster.Silos.Select(s => s.SiloAddress).ToList();
        while (!cluster.Silos.All(s => addresses.All(a => Labelled(s.SiloHost.Services, a))))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("silo metadata did not spread within 30 s");
            await Task.Delay(100);
        }

        static bool Labelled(IServiceProvider services, SiloAddress silo) =>
            services.GetRequiredService<ISiloMetadataCache>().GetSiloMetadata(silo).Metadata.ContainsKey(SiloAccelerator.MetadataKey);
    }

    public async ValueTask DisposeAsync()
    {
        if (cluster is not null) await cluster.DisposeAsync();
        Directory.Delete(data, recursive: true);
    }
}
