using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Streaming.Grains.Placement;

/// <summary>
/// The silo metadata that says which device a silo trains on. The host sets it from the device libtorch
/// actually initialized, so a GPU node whose CUDA failed to load is labelled cpu, not cuda.
/// </summary>
public static class SiloAccelerator
{
    public const string MetadataKey = "streaming.accelerator";
    public const string Cuda = "cuda";
    public const string Cpu = "cpu";

    /// <summary>Whether this silo knows <paramref name="silo"/> as labelled cuda (unknown metadata counts as not).</summary>
    public static bool IsCuda(this ISiloMetadataCache metadata, SiloAddress silo) =>
        metadata.GetSiloMetadata(silo).Metadata.TryGetValue(MetadataKey, out var value) && value == Cuda;

    /// <summary>The label for a libtorch device type name (cuda, cpu, ...): cuda for CUDA, cpu for the rest.</summary>
    public static string FromDeviceType(string deviceType) =>
        deviceType.Equals(Cuda, StringComparison.OrdinalIgnoreCase) ? Cuda : Cpu;
}
