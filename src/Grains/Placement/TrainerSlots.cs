using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Streaming.Grains.Placement;

/// <summary>
/// The silo metadata that says how many runs a silo should train at the same time (<see cref="StreamingOptions.TrainerSlots"/>).
/// Advice for clients that start several runs, e.g. `streaming compare`; placement does not enforce it.
/// </summary>
public static class TrainerSlots
{
    public const string MetadataKey = "streaming.trainers";

    /// <summary>The slots <paramref name="silo"/> announces; a silo without the label (metadata not fetched yet, or an older
    /// build) counts one.</summary>
    public static int TrainerSlotsOf(this ISiloMetadataCache metadata, SiloAddress silo) =>
        metadata.GetSiloMetadata(silo).Metadata.TryGetValue(MetadataKey, out var value) && int.TryParse(value, out var slots) && slots >= 1 ? slots : 1;
}
