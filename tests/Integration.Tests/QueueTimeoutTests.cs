using Orleans.Configuration;
using Orleans.TestingHost;
using Streaming.Grains;
using Streaming.Training.Data;
using Streaming.Training.Model;
using Streaming.Training.Native;

namespace Streaming.Integration.Tests;

/// <summary>
/// An ingest whose call to queue the corpus times out although the run got it (a slow storage write, a busy silo):
/// the stored corpus must stay, for the run trains from it. Silo-to-silo calls here time out after 2 s, and the trainer's
/// answer to EnqueueCorpusAsync is held back 4 s.
/// </summary>
public sealed class QueueTimeoutTests : IAsyncLifetime
{
    readonly string data = Directory.CreateTempSubdirectory("streaming-queue-timeout-").FullName;
    InProcessTestCluster cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo
            .AddStreaming(o =>
            {
                o.DataDirectory = data;
                o.Storage = "memory";
                o.Torch = new TorchOptions { Device = "cpu", Threads = 1 };
                o.Model = new GptConfig(Layers: 1, Width: 32, Heads: 2, Context: 32, Vocabulary: 256);
                o.BlockTokens = 4 * 32 + 1;
            })
            .Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(2))
            .AddIncomingGrainCallFilter(async call =>
            {
                await call.Invoke();
                if (call.InterfaceMethod.Name == nameof(ITrainerGrain.EnqueueCorpusAsync)) await Task.Delay(TimeSpan.FromSeconds(4));
            }));
        cluster = builder.Build();
        await cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await cluster.DisposeAsync();
        Directory.Delete(data, recursive: true);
    }

    [Fact]
    public async Task AQueueCallThatTimesOutButGotThroughKeepsTheStoredCorpus()
    {
        var source = Path.Combine(data, "english.jsonl");
        await File.WriteAllLinesAsync(source, File.ReadLines(SampleCorpora.File("english")).Take(3));
        var result = await cluster.Client.GetGrain<ICorpusGrain>("english").IngestAsync(new IngestRequest("slow", source));

        Assert.False(result.AlreadyQueued);
        Assert.True(File.Exists(Path.Combine(BlockStore.CorpusDirectory(data, "english"), CorpusIngestor.TrainFile)), "the stored corpus was deleted");
        Assert.Equal(["english"], await cluster.Client.GetGrain<ITrainerGrain>("slow").GetCorporaAsync());
    }
}
