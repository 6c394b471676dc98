using Streaming.Grains.Placement;

namespace Streaming.Grains;

// Training needs the GPU; CPU silos host the corpora (tokenizing, publishing blocks) and the rest.
[PreferAcceleratorSilos]
public sealed partial class TrainerGrain
{
    /// <summary>The address of the silo this activation lives on, as <see cref="RunStatus.Silo"/> reports it.</summary>
    string HostingSilo => GrainContext.Address.SiloAddress?.ToString() ?? "";
}
