namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// The fuzz tests run alone, after the parallel tests: their memory bound is the process' peak working set, which
/// other tests running beside them would raise.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzCollection
{
    public const string Name = "Fuzz";

    /// <summary>The peak working set a fuzz run may reach: the test host (~150 MiB) and one case's reading, whose
    /// document limit is at most 1 MiB here, with room for the GC's slack.</summary>
    public const long PeakBytesBound = 768L << 20;
}
