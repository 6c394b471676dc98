namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// The fuzz tests run alone, after the parallel tests: their memory bound is the process' peak working set, which
/// other tests running beside them would raise.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzCollection
{
    public const string Name = "Fuzz";

    /// <summary>How far a fuzz run may raise the process' peak working set over what it held before: one case's reading,
    /// whose document limit is at most 1 MiB here, with room for the GC's slack (measured alone: at most 271 MiB with the
    /// ~150 MiB test host included).</summary>
    public const long GrowthBound = 768L << 20;
}
