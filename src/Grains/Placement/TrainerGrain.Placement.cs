using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Streaming.Grains.Placement;

namespace Streaming.Grains;

// Training needs the GPU; CPU silos host the corpora (tokenizing, publishing blocks) and the rest.
[PreferAcceleratorSilos]
public sealed partial class TrainerGrain
{
    /// <summary>The address of the silo this activation lives on, as <see cref="RunStatus.Silo"/> reports it.</summary>
    string HostingSilo => GrainContext.Address.SiloAddress?.ToString() ?? "";

    /// <summary>
    /// Placement happens only at activation, so a trainer that landed on a CPU silo (no cuda silo was up yet,
    /// or its GPU silo died) would stay there. Called on keep-alive ticks: when a cuda silo is up, migrate;
    /// placement then picks it, and the new activation resumes from the last checkpoint.
    /// </summary>
    void MoveToAcceleratorWhenOneIsUp()
    {
        var metadata = ServiceProvider.GetRequiredService<ISiloMetadataCache>();
        if (GrainContext.Address.SiloAddress is not { } here || metadata.IsCuda(here)) return;
        var members = ServiceProvider.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.Members.Values;
        var cuda = members.FirstOrDefault(m => m.Status == SiloStatus.Active && metadata.IsCuda(m.SiloAddress));
        if (cuda is null) return;
        logger.LogInformation("run {Run}: moving from cpu silo {Here} now that cuda silo {Cuda} is up", Run, here, cuda.SiloAddress);
        this.MigrateOnIdle();
    }
}
