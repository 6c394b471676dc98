using Streaming.Schedules;
using Streaming.Training.Model;
using Orleans.TestingHost;
using Streaming.Grains;
using Streaming.Training.Native;

namespace Streaming.Integration.Tests;

/// <summary>A one-silo in-process test cluster with Streaming's grains on CPU, memory grain state and a temporary data folder.</summary>
public abstract class OneSiloCluster(string name) : IAsyncLifetime
{
    protected string Data { get; } = Directory.CreateTempSubdirectory($"streaming-{name}-").FullName;
    protected InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>A one-layer GPT of width 32 on blocks of 4 rows of 32 tokens, under an infinite schedule with the paper
    /// protocol's anneal branches, short enough that a few hundred blocks show every phase.</summary>
    internal static void UseTinyInfiniteRun(StreamingOptions o)
    {
        o.Model = new GptConfig(Layers: 1, Width: 32, Heads: 2, Context: 32, Vocabulary: 256);
        o.BlockTokens = 4 * 32 + 1;
        o.Schedule = new ScheduleConfig { Kind = "infinite", MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 4, AnnealFraction = 0.25 };
    }

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

    /// <summary>Polls the run's status (every 200 ms, at most 2 minutes) until <paramref name="condition"/> holds; a failed run fails at once.</summary>
    protected static async Task<RunStatus> WaitFor(ITrainerGrain trainer, Func<RunStatus, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var status = await trainer.GetStatusAsync();
            Assert.DoesNotContain("failed", status.Phase);
            if (condition(status)) return status;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"run {status.Run} stuck at step {status.Step}, phase {status.Phase}, model in memory: {status.ModelInMemory}");
            await Task.Delay(200);
        }
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Directory.Delete(Data, recursive: true);
    }
}
