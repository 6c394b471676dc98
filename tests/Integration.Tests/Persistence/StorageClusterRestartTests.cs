using Microsoft.Extensions.Hosting;
using Orleans.TestingHost;
using Streaming.Grains;

namespace Streaming.Integration.Tests.Persistence;

/// <summary>Grain state through AddStreaming's storage choice survives stopping the whole cluster and starting a new one.</summary>
public sealed class StorageClusterRestartTests : IDisposable
{
    readonly string data = Directory.CreateTempSubdirectory("streaming-storage-").FullName;

    public void Dispose() => Directory.Delete(data, recursive: true);

    [Fact]
    public async Task SqliteRegistryKeepsRunsAcrossClusterRestart()
    {
        await RegistrySurvivesRestart(o => o.Storage = "sqlite");
        Assert.True(File.Exists(Path.Combine(data, "grain-state.db")));
    }

    [Fact]
    public async Task RedisRegistryKeepsRunsAcrossClusterRestart()
    {
        await using var redis = await RedisServer.StartAsync();
        await RegistrySurvivesRestart(o =>
        {
            o.Storage = "redis";
            o.RedisConnectionString = redis.ConnectionString;
        });
    }

    [Fact]
    public async Task MemoryStorageForgetsOnRestart()
    {
        var serviceId = "storage-test-" + Guid.NewGuid().ToString("N");
        await using (var first = await StartAsync(serviceId, o => o.Storage = "memory"))
            await first.Client.GetGrain<IRunRegistryGrain>(0).RegisterAsync("lost");
        await using var second = await StartAsync(serviceId, o => o.Storage = "memory");
        Assert.Empty(await second.Client.GetGrain<IRunRegistryGrain>(0).GetRunsAsync());
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("")]
    public void UnknownStorageIsOneLineError(string storage)
    {
        // UseOrleans runs the silo configuration at once, as the silo host's Build does.
        var error = Assert.ThrowsAny<ArgumentException>(() => Host.CreateApplicationBuilder().UseOrleans(silo => silo.AddStreaming(o => o.Storage = storage)));
        Assert.Contains("sqlite, redis, memory", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void RedisWithoutConnectionStringIsOneLineError()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Host.CreateApplicationBuilder().UseOrleans(silo => silo.AddStreaming(o => o.Storage = "redis")));
        Assert.Contains("--redis", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    async Task RegistrySurvivesRestart(Action<StreamingOptions> storage)
    {
        var serviceId = "storage-test-" + Guid.NewGuid().ToString("N");
        await using (var first = await StartAsync(serviceId, storage))
        {
            var registry = first.Client.GetGrain<IRunRegistryGrain>(0);
            await registry.RegisterAsync("alpha");
            await registry.RegisterAsync("beta");
            Assert.Equal(["alpha", "beta"], await registry.GetRunsAsync());
            await first.StopAllSilosAsync();
        }
        await using var second = await StartAsync(serviceId, storage);
        var again = second.Client.GetGrain<IRunRegistryGrain>(0);
        Assert.Equal(["alpha", "beta"], await again.GetRunsAsync());
        await again.RegisterAsync("gamma");
        Assert.Equal(["alpha", "beta", "gamma"], await again.GetRunsAsync());
    }

    Task<InProcessTestCluster> StartAsync(string serviceId, Action<StreamingOptions> storage) => StorageCluster.StartAsync(serviceId, data, storage);
}
