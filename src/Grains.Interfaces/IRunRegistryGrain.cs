using Orleans.Concurrency;

namespace Streaming.Grains;

/// <summary>The list of runs in the cluster (a single activation, key 0), so clients can find them all.</summary>
public interface IRunRegistryGrain : IGrainWithIntegerKey
{
    Task RegisterAsync(string run);

    [AlwaysInterleave]
    Task<IReadOnlyList<string>> GetRunsAsync();
}
