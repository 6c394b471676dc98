using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Streaming.Grains.Placement;

/// <summary>
/// Keeps the candidate silos labelled cuda when there is at least one, and all of them otherwise.
/// A silo whose metadata this silo has not fetched yet counts as not cuda.
/// </summary>
public sealed class PreferAcceleratorSilosDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var candidates = silos.ToList();
        var accelerated = candidates.Where(metadata.IsCuda).ToList();
        return accelerated.Count > 0 ? accelerated : candidates;
    }
}
