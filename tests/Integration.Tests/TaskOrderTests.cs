using Orleans.TestingHost;
using Streaming.Grains;
using Streaming.Training.Data;

namespace Streaming.Integration.Tests;

/// <summary>
/// Shuffled tasks end to end: a run trains each corpus' blocks in its seeded order by default (a run that ingest creates
/// too), `--order file` in the stored order, both every block exactly once; after a restart of the whole cluster a run
/// goes on in the same order. The order is seen in the blocks the trainers are delivered (<see cref="DeliveredBlocks"/>).
/// </summary>
public sealed class TaskOrderTests : IDisposable
{
    const int BlockTokens = 4 * 32 + 1;

    readonly string data = Directory.CreateTempSubdirectory("streaming-task-order-").FullName;
    readonly string serviceId = "task-order-" + Guid.NewGuid().ToString("N");
    readonly DeliveredBlocks delivered = new();

    public void Dispose() => Directory.Delete(data, recursive: true);

    [Fact]
    public async Task ARunShufflesEachTaskByDefaultAndFileOrderKeepsTheStoredOrder()
    {
        await using var cluster = await StartAsync();
        var text = await Slice(10);
        var file = cluster.Client.GetGrain<ITrainerGrain>("in-file-order");
        Assert.Contains(", file block order;", await file.ConfigureAsync(new RunSettings { Order = "file" }));
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => file.ConfigureAsync(new RunSettings { Order = "random" }));
        Assert.Equal("--order must be one of shuffled, file, not 'random'", refused.Message);
        // "shuffled" is not configured at all: the run ingest creates takes the default.
        var corpus = cluster.Client.GetGrain<ICorpusGrain>("english");
        await corpus.IngestAsync(new IngestRequest("shuffled", text));
        await corpus.IngestAsync(new IngestRequest("in-file-order", text));

        var shuffled = await WaitUntilRead(cluster, "shuffled");
        Assert.Equal("shuffled", shuffled.Order);
        var order = Order("shuffled");
        Assert.Equal(Expected(1), order);
        var stored = Enumerable.Range(0, order.Length).Select(i => (long)i).ToArray();
        Assert.Equal(stored, order.Order());                                       // every block once
        Assert.True(order.Where((block, position) => block != position).Count() > order.Length / 2, $"hardly shuffled: {string.Join(' ', order)}");

        Assert.Equal("file", (await WaitUntilRead(cluster, "in-file-order")).Order);
        Assert.Equal(stored, Order("in-file-order"));
        Assert.Empty(delivered.Conflicts);
    }

    [Fact]
    public async Task AfterARestartARunGoesOnInTheSameOrder()
    {
        var text = await Slice(20);
        var before = await StartAsync();
        try
        {
            await before.Client.GetGrain<ITrainerGrain>("resumed").ConfigureAsync(new RunSettings { Seed = 5 });
            await before.Client.GetGrain<ICorpusGrain>("english").IngestAsync(new IngestRequest("resumed", text));
            var trainer = before.Client.GetGrain<ITrainerGrain>("resumed");
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            RunStatus status;
            do status = await trainer.GetStatusAsync();
            while ((status.Step < 8 || status.LastCheckpoint is null) && DateTime.UtcNow < deadline);
            Assert.True(status.Corpora[0].TokensRead < status.Corpora[0].TokensTotal, "training finished before the restart; the test proves nothing");
            await before.StopAllSilosAsync();
        }
        finally
        {
            await before.DisposeAsync();
        }

        await using var after = await StartAsync();
        await WaitUntilRead(after, "resumed");
        Assert.Empty(delivered.Conflicts);   // a position read again after the restart is the same stored block
        Assert.Equal(Expected(5), Order("resumed"));
    }

    /// <summary>A one-silo cluster on the test's data folder and service id (grain state in SQLite, so a new one goes on where
    /// the last stopped) that records the blocks trainers are delivered.</summary>
    async Task<InProcessTestCluster> StartAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddStreaming(o =>
            {
                OneSiloCluster.UseTinyInfiniteRun(o);
                o.DataDirectory = data;
                o.Storage = "sqlite";
                o.Torch = new() { Device = "cpu", Threads = 1 };
                o.CheckpointEvery = 4;
            });
            silo.AddIncomingGrainCallFilter(delivered.Record);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    async Task<string> Slice(int documents)
    {
        var text = Path.Combine(data, "english.jsonl");
        await File.WriteAllLinesAsync(text, File.ReadLines(SampleCorpora.File("english")).Take(documents));
        return text;
    }

    /// <summary>Waits until the run has read its corpus; every token of it, exactly once.</summary>
    async Task<RunStatus> WaitUntilRead(InProcessTestCluster cluster, string run)
    {
        var trainer = cluster.Client.GetGrain<ITrainerGrain>(run);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        RunStatus status;
        do
        {
            await Task.Delay(200);
            status = await trainer.GetStatusAsync();
            Assert.DoesNotContain("failed", status.Phase);
        }
        while (status.Corpora[0].TokensRead < status.Corpora[0].TokensTotal && DateTime.UtcNow < deadline);
        using var store = BlockStore.Open(data, "english");
        Assert.Equal(store.TrainTokens, status.Corpora[0].TokensTotal);
        Assert.Equal(store.TrainTokens, status.Corpora[0].TokensRead);
        return status;
    }

    /// <summary>The stored block the run was delivered at each position of the corpus.</summary>
    long[] Order(string run)
    {
        using var store = BlockStore.Open(data, "english");
        var blocks = store.TrainBlockCountOf(BlockTokens);
        return delivered.StoredIndices(run, "english", blocks, [.. Enumerable.Range(0, (int)blocks).Select(i => store.ReadBlock(i, BlockTokens))]);
    }

    /// <summary>The order of the corpus under run seed <paramref name="seed"/>.</summary>
    long[] Expected(long seed)
    {
        using var store = BlockStore.Open(data, "english");
        var order = BlockOrder.Of(seed, "english", store.TrainTokens / BlockTokens);
        return [.. Enumerable.Range(0, (int)store.TrainBlockCountOf(BlockTokens)).Select(p => order.StoredIndex(p))];
    }
}
