using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Streaming.Grains.Placement;

/// <summary>
/// Keeps the candidate silos with the accelerator label the strategy prefers (cuda for
/// <see cref="PreferAcceleratorSilosStrategy"/>, cpu for <see cref="PreferCpuSilosStrategy"/>) when there is at
/// least one, and all of them otherwise. A silo whose metadata this silo has not fetched yet counts as cpu.
/// </summary>
public sealed class PreferAcceleratorSilosDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var wanted = filterStrategy is PreferCpuSilosStrategy ? SiloAccelerator.Cpu : SiloAccelerator.Cuda;
        var candidates = silos.ToList();
        var preferred = candidates.Where(silo => metadata.IsCuda(silo) == (wanted == SiloAccelerator.Cuda)).ToList();
        return preferred.Count > 0 ? preferred : candidates;
    }
}
