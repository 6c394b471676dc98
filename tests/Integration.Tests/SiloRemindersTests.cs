using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Hosting;
using Orleans.TestingHost;
using Streaming.Grains;
using Streaming.Training.Data;
using Streaming.Training.Native;

namespace Streaming.Integration.Tests;

/// <summary>
/// One silo keeps its reminders in its own memory (reminders "silo", what the host runs without Redis). The keep-alive
/// reminder is written, ticks and goes once the run's work is done; and a silo stopped while its reminder service keeps
/// re-reading the table (every 100 ms here, so a read falls in the shutdown) logs no error. With Orleans' grain-based
/// in-memory table this test failed: its reading at shutdown asked for the table's grain after that grain had gone, when
/// the silo no longer takes activations, and logged errors with stack traces on a clean SIGTERM.
/// </summary>
public sealed class SiloRemindersTests : IAsyncLifetime
{
    readonly string data = Directory.CreateTempSubdirectory("streaming-silo-reminders-").FullName;
    readonly CapturedLog log = new();
    InProcessTestCluster cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSiloHost((_, host) => host.Logging.AddProvider(log));
        builder.ConfigureSilo((_, silo) => silo.AddStreaming(o =>
        {
            o.DataDirectory = data;
            o.Storage = "memory";
            o.Reminders = "silo";
            o.KeepAlivePeriod = TimeSpan.FromSeconds(1);
            o.Torch = new TorchOptions { Device = "cpu", Threads = 1 };
            OneSiloCluster.UseTinyInfiniteRun(o);
        }).Configure<ReminderOptions>(o =>
        {
            o.MinimumReminderPeriod = TimeSpan.FromSeconds(1);
            o.RefreshReminderListPeriod = TimeSpan.FromMilliseconds(100);
        }));
        cluster = builder.Build();
        await cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await cluster.DisposeAsync();
        Directory.Delete(data, recursive: true);
    }

    IReminderTable Table => cluster.Silos[0].SiloHost.Services.GetRequiredService<IReminderTable>();

    async Task<(ITrainerGrain Trainer, CorpusInfo Info)> IngestAsync(string run, int documents)
    {
        var corpus = Path.Combine(data, $"{run}.jsonl");
        await File.WriteAllLinesAsync(corpus, File.ReadLines(SampleCorpora.File("english")).Take(documents));
        var info = (await cluster.Client.GetGrain<ICorpusGrain>("english").IngestAsync(new IngestRequest(run, corpus))).Info;
        return (cluster.Client.GetGrain<ITrainerGrain>(run), info);
    }

    async Task<RunStatus> WaitForAsync(ITrainerGrain trainer, Func<RunStatus, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (await trainer.GetStatusAsync() is var status && !condition(status))
        {
            Assert.True(DateTime.UtcNow < deadline, $"run at step {status.Step}, phase {status.Phase} after 2 minutes\n{log.Tail(20)}");
            await Task.Delay(100);
        }
        return await trainer.GetStatusAsync();
    }

    [Fact]
    public async Task TheKeepAliveReminderTicksFromTheSilosMemoryAndGoesWithTheWork()
    {
        Assert.Equal("SiloReminderTable", Table.GetType().Name);
        var (trainer, info) = await IngestAsync("kept-alive", 6);
        await WaitForAsync(trainer, s => s.Step >= 1);
        var row = await Table.ReadRow(trainer.GetGrainId(), "keep-alive");
        Assert.NotNull(row);
        // The reminder service reads by ring range; a range that starts where it ends is the whole ring.
        Assert.Contains((await Table.ReadRows(row.GrainId.GetUniformHashCode(), row.GrainId.GetUniformHashCode())).Reminders, r => r.ReminderName == "keep-alive");
        Assert.DoesNotContain((await Table.ReadRows(row.GrainId.GetUniformHashCode(), row.GrainId.GetUniformHashCode() + 1)).Reminders, r => r.GrainId == row.GrainId);

        await WaitForAsync(trainer, s => s.Corpora.Single().TokensRead == info.Tokens);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await Table.ReadRow(trainer.GetGrainId(), "keep-alive") is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the keep-alive reminder outlived the run's work: no tick came");
            await Task.Delay(100);
        }
        Assert.Empty(log.Containing(" Error "));
    }

    [Fact]
    public async Task ASiloStoppedWhileItsRemindersAreReadLogsNoError()
    {
        var (trainer, info) = await IngestAsync("stopped", 40);
        var status = await WaitForAsync(trainer, s => s.Step >= 2);
        Assert.NotNull(await Table.ReadRow(trainer.GetGrainId(), "keep-alive"));
        Assert.True(status.Step < info.Blocks, "training finished before the stop; the test proves nothing");

        await cluster.StopAllSilosAsync();
        var errors = log.Containing(" Error ");
        Assert.True(errors.Count == 0, $"the silo logged errors while stopping:\n{string.Join('\n', errors)}");
    }
}
