using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.TestingHost;
using Streaming.Grains;
using Streaming.Grains.Placement;
using Streaming.Training.Data;
using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Schedules;

namespace Streaming.Integration.Tests;

/// <summary>Trainers go to the silo labelled cuda when the cluster has one (also one that joins later), and anywhere when it
/// has none; the trainer slots clients are told count the silos trainers go to.</summary>
public sealed class PlacementTests : IAsyncLifetime
{
    const int Runs = 10, CudaSlots = 2, CpuSlots = 3;
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
        // Only the cuda silo's slots: the cpu silos' would never get a trainer.
        Assert.Equal(CudaSlots, await cluster.Client.GetGrain<IRunRegistryGrain>(0).GetTrainerSlotsAsync());
    }

    [Fact]
    public async Task TrainersStillActivateWithoutCudaSilos()
    {
        cluster = await StartAsync(silos: 2, cudaSilo: null);
        var silos = cluster.Silos.Select(s => s.SiloAddress.ToString()).ToHashSet();

        var placed = await ActivateTrainersAsync(cluster);

        Assert.Equal(Runs, placed.Count);
        Assert.All(placed, silo => Assert.Contains(silo, silos));
        Assert.Equal(2 * CpuSlots, await cluster.Client.GetGrain<IRunRegistryGrain>(0).GetTrainerSlotsAsync());
    }

    [Fact]
    public async Task TrainerMovesToACudaSiloThatJoinsLater()
    {
        cluster = await StartAsync(silos: 2, cudaSilo: "Silo_2");
        var corpus = Path.Combine(data, "english.jsonl");
        await File.WriteAllLinesAsync(corpus, (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Take(120));
        var info = await cluster.Client.GetGrain<ICorpusGrain>("english").IngestAsync(new IngestRequest("late-gpu", corpus));
        var trainer = cluster.Client.GetGrain<ITrainerGrain>("late-gpu");
        var before = await WaitForAsync(trainer, s => s.Step >= 5);

        var gpu = await cluster.StartAdditionalSiloAsync();
        Assert.Equal("Silo_2", gpu.Name);
        var moved = await WaitForAsync(trainer, s => s.Silo == gpu.SiloAddress.ToString());
        Assert.True(moved.Corpora.Single().TokensRead < info.Tokens, "training finished before the move; the test proves nothing");
        Assert.NotEqual(gpu.SiloAddress.ToString(), before.Silo);

        var after = await WaitForAsync(trainer, s => s.Corpora.Single().TokensRead >= info.Tokens && s.Phase != "idle");
        Assert.Equal(gpu.SiloAddress.ToString(), after.Silo);
        Assert.Equal(info.Tokens, after.Corpora.Single().TokensRead);
        Assert.Equal(info.Blocks, after.Step);
    }

    async Task<RunStatus> WaitForAsync(ITrainerGrain trainer, Func<RunStatus, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        RunStatus status;
        do
        {
            await Task.Delay(200);
            status = await trainer.GetStatusAsync();
            Assert.False(status.Phase.StartsWith("failed"), status.Phase);
            Assert.True(DateTime.UtcNow < deadline, $"not there within a minute; last: step {status.Step} on {status.Silo}");
        }
        while (!condition(status));
        return status;
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
            o.TrainerSlots = silo.SiloName == cudaSilo ? CudaSlots : CpuSlots;
            o.Model = new GptConfig(Layers: 2, Width: 64, Heads: 2, Context: 64, Vocabulary: 256);
            o.BlockTokens = 16 * 64 + 1;
            o.CheckpointEvery = 5;
            o.Schedule = new ScheduleConfig { Kind = "constant", ConstLr = 3e-3, MaxLr = 3e-3, WarmupSteps = 0 };
            o.KeepAlivePeriod = TimeSpan.FromSeconds(1);
        }).Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1)));
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

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xunit 2 does not call DisposeAsync on the latter.
    public async Task DisposeAsync()
    {
        if (cluster is not null) await cluster.DisposeAsync();
        Directory.Delete(data, recursive: true);
    }
}
