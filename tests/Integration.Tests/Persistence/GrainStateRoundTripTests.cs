using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;
using Streaming.Grains;

namespace Streaming.Integration.Tests.Persistence;

/// <summary>
/// Every type the grains persist, with realistic contents, written and read back through each storage provider
/// the silo offers, as AddStreaming wires it (serializer included); then read again by a new silo on the same
/// storage, as after a restart. A state type that changes so that it no longer reads back fails here, not at a
/// user's restart.
/// </summary>
public sealed class GrainStateRoundTripTests : IDisposable
{
    readonly string data = Directory.CreateTempSubdirectory("streaming-roundtrip-").FullName;

    public void Dispose() => Directory.Delete(data, recursive: true);

    [Fact]
    public void EveryPersistedStateTypeHasASample()
    {
        var persisted = GrainStateSamples.Persisted();
        Assert.Equal(["corpus", "evaluation", "run", "runs"], persisted.Select(p => p.Name).Order());
        Assert.Equal(persisted.Select(p => p.Type).OrderBy(t => t.Name), GrainStateSamples.ByType.Keys.OrderBy(t => t.Name));
        // The sample holds the kind of value that broke restarts: a collection expression's compiler-made type.
        var evaluation = (EvaluationState)GrainStateSamples.ByType[typeof(EvaluationState)];
        Assert.StartsWith("<>z__", evaluation.Done[0].Snapshot.Corpora.GetType().Name);
    }

    [Fact]
    public Task Sqlite() => RoundTrip(o => o.Storage = "sqlite", survivesRestart: true);

    [Fact]
    public async Task Redis()
    {
        await using var redis = await RedisServer.StartAsync();
        await RoundTrip(o =>
        {
            o.Storage = "redis";
            o.RedisConnectionString = redis.ConnectionString;
        }, survivesRestart: true);
    }

    [Fact]
    public Task Memory() => RoundTrip(o => o.Storage = "memory", survivesRestart: false);

    async Task RoundTrip(Action<StreamingOptions> storage, bool survivesRestart)
    {
        var serviceId = "roundtrip-" + Guid.NewGuid().ToString("N");
        var persisted = GrainStateSamples.Persisted();
        await using (var first = await StartAsync(serviceId, storage))
        {
            var provider = Storage(first);
            foreach (var (name, type) in persisted)
            {
                var sample = GrainStateSamples.ByType[type];
                await Call(nameof(WriteAsync), type, provider, name, sample);
                Assert.Equivalent(sample, await Call(nameof(ReadAsync), type, provider, name, null), strict: true);
            }
            await first.StopAllSilosAsync();
        }
        if (!survivesRestart) return;
        await using var second = await StartAsync(serviceId, storage);
        foreach (var (name, type) in persisted)
            Assert.Equivalent(GrainStateSamples.ByType[type], await Call(nameof(ReadAsync), type, Storage(second), name, null), strict: true);
    }

    static readonly GrainId Grain = GrainId.Create("roundtrip", "run-1");

    static async Task<object?> WriteAsync<T>(IGrainStorage storage, string name, T state)
    {
        var grainState = new GrainState<T>(state);
        await storage.WriteStateAsync(name, Grain, grainState);
        return null;
    }

    static async Task<object?> ReadAsync<T>(IGrainStorage storage, string name, T? _)
    {
        var grainState = new GrainState<T>();
        await storage.ReadStateAsync(name, Grain, grainState);
        Assert.True(grainState.RecordExists, $"no {typeof(T).Name} stored under '{name}'");
        return grainState.State;
    }

    static Task<object?> Call(string method, Type type, IGrainStorage storage, string name, object? state) =>
        (Task<object?>)typeof(GrainStateRoundTripTests).GetMethod(method, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(type).Invoke(null, [storage, name, state])!;

    static IGrainStorage Storage(InProcessTestCluster cluster) =>
        cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StreamNames.Storage);

    Task<InProcessTestCluster> StartAsync(string serviceId, Action<StreamingOptions> storage) => StorageCluster.StartAsync(serviceId, data, storage);
}
