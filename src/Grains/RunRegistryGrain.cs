using Orleans.Runtime.MembershipService.SiloMetadata;
using Streaming.Grains.Placement;

namespace Streaming.Grains;

public sealed class RunRegistryGrain(
    IClusterMembershipService membership,
    ISiloMetadataCache metadata,
    [PersistentState("runs", StreamNames.Storage)] IPersistentState<SortedSet<string>> runs) : Grain, IRunRegistryGrain
{
    public async Task RegisterAsync(string run)
    {
        if (runs.State.Add(run)) await runs.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> GetRunsAsync() => Task.FromResult<IReadOnlyList<string>>([.. runs.State]);

    public Task<int> GetTrainerSlotsAsync()
    {
        var active = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();
        // Trainers are placed on cuda silos whenever there are any (PreferAcceleratorSilosDirector): only theirs count then.
        var cuda = active.Where(metadata.IsCuda).ToList();
        return Task.FromResult((cuda.Count > 0 ? cuda : active).Sum(metadata.TrainerSlotsOf));
    }
}
