using Orleans.Concurrency;

namespace Streaming.Grains;

/// <summary>The list of runs in the cluster (a single activation, key 0), so clients can find them all.</summary>
public interface IRunRegistryGrain : IGrainWithIntegerKey
{
    Task RegisterAsync(string run);

    [AlwaysInterleave]
    Task<IReadOnlyList<string>> GetRunsAsync();

    /// <summary>How many runs the cluster should train at the same time: the trainer slots (silo flag --trainers) of its
    /// active silos, counting only cuda silos when there are any (trainers go there). Advice for clients that start
    /// several runs, e.g. in parallel when they fit and one after another otherwise; the silos do not enforce it.</summary>
    [AlwaysInterleave]
    Task<int> GetTrainerSlotsAsync();
}
