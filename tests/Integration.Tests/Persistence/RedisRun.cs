using Orleans.TestingHost;
using Streaming.Grains;
using Streaming.Schedules;
using Streaming.Training.Data;
using Streaming.Training.Model;
using Streaming.Training.Native;

namespace Streaming.Integration.Tests.Persistence;

/// <summary>The run the Redis cluster tests (failover, Redis restarts) train: grain state and reminders in Redis, a small
/// model, a checkpoint every 5 steps, and the first 40 English sample documents (about 158 blocks) as its only task.</summary>
static class RedisRun
{
    /// <summary>Silo settings: the data folder and Redis given, the rest the same for every such test.</summary>
    public static void Configure(StreamingOptions o, string data, string redisConnectionString)
    {
        o.DataDirectory = data;
        o.Storage = "redis";
        o.Reminders = "redis";
        o.RedisConnectionString = redisConnectionString;
        o.KeepAlivePeriod = TimeSpan.FromSeconds(2);
        o.CheckpointEvery = 5;
        o.Torch = new TorchOptions { Device = "cpu", Threads = 1 };
        o.Model = new GptConfig(Layers: 2, Width: 64, Heads: 2, Context: 64, Vocabulary: 256);
        o.BlockTokens = 16 * 64 + 1;
        o.Schedule = new ScheduleConfig { Kind = "constant", ConstLr = 3e-3, MaxLr = 3e-3, WarmupSteps = 0 };
    }

    /// <summary>Ingests the first 40 documents of the English sample as <paramref name="run"/>'s only task.</summary>
    public static async Task<CorpusInfo> IngestAsync(InProcessTestCluster cluster, string data, string run)
    {
        var corpus = Path.Combine(data, "english.jsonl");
        await File.WriteAllLinesAsync(corpus, (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Take(40));
        return (await cluster.Client.GetGrain<ICorpusGrain>("english").IngestAsync(new IngestRequest(run, corpus))).Info;
    }
}
