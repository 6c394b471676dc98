using Orleans.TestingHost;
using Streaming.Grains;

namespace Streaming.Integration.Tests.Persistence;

/// <summary>A one-silo test cluster with Streaming's grains on a storage choice; the same service id and data
/// folder again make a restart of the whole cluster.</summary>
static class StorageCluster
{
    public static async Task<InProcessTestCluster> StartAsync(string serviceId, string data, Action<StreamingOptions> storage)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) => silo.AddStreaming(o =>
        {
            o.DataDirectory = data;
            storage(o);
        }));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}
