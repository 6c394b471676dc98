using Orleans.Placement;

namespace Streaming.Grains.Placement;

/// <summary>
/// Places a grain on silos labelled <see cref="SiloAccelerator.Cuda"/> when any is a candidate, on any silo
/// otherwise (a cluster without GPUs still trains, on CPU).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class PreferAcceleratorSilosAttribute() : PlacementFilterAttribute(new PreferAcceleratorSilosStrategy());

/// <summary>
/// Places a grain on silos labelled <see cref="SiloAccelerator.Cpu"/> when any is a candidate, on any silo
/// otherwise (a cluster of GPU silos only shares them).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class PreferCpuSilosAttribute() : PlacementFilterAttribute(new PreferCpuSilosStrategy());

/// <summary>The filter strategy behind <see cref="PreferAcceleratorSilosAttribute"/>; it carries no settings.</summary>
public sealed class PreferAcceleratorSilosStrategy() : PlacementFilterStrategy(order: 0);

/// <summary>The filter strategy behind <see cref="PreferCpuSilosAttribute"/>; it carries no settings.</summary>
public sealed class PreferCpuSilosStrategy() : PlacementFilterStrategy(order: 0);
