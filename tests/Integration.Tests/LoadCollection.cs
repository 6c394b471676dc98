namespace Streaming.Integration.Tests;

/// <summary>The load test runs alone: its latency and memory figures would count other tests' silos and training as its own,
/// and its 4 runs would slow theirs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoadCollection
{
    public const string Name = "Load";
}
