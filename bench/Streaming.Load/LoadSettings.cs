using Streaming.Grains;

namespace Streaming.Load;

/// <summary>How much load: runs, corpora queued across them, the status poll's rate, each corpus' size, and how long the
/// whole may take before it counts as failed.</summary>
public sealed record LoadSettings
{
    public int Runs { get; init; } = 20;
    public int Ingests { get; init; } = 100;
    public double StatusHz { get; init; } = 100;
    public int CorpusBytes { get; init; } = 8 * 1024;
    public TimeSpan Limit { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>The slowest the 99th percentile of status calls may be.</summary>
    public TimeSpan P99Limit { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The most the silo's resident memory may have grown, from before training to after every run let go of its model.</summary>
    public long GrowthLimitBytes { get; init; } = 256L << 20;

    /// <summary>Which round of load on the same silo this is (from 1): each round has new runs and new corpora, so that a second
    /// round tells memory a silo keeps for good (a leak grows again) from what it takes once.</summary>
    public int Round { get; init; } = 1;

    /// <summary>Run names; each run has its own seed, so no two train alike.</summary>
    public IReadOnlyList<string> RunNames => [.. Enumerable.Range(0, Runs).Select(i => Round == 1 ? $"load-{i:D2}" : $"load{Round}-{i:D2}")];

    /// <summary>The generated corpus of ingest <paramref name="ingest"/>: distinct in every round.</summary>
    public int CorpusOf(int ingest) => (Round - 1) * Ingests + ingest;

    /// <summary>Ingest <paramref name="i"/> goes to run i mod runs, as that run's task i / runs: every run gets its share in turn.</summary>
    public string RunOf(int ingest) => RunNames[ingest % Runs];

    /// <summary>A one-layer GPT of width 32 on batches of 4 rows of 32 tokens: a step takes milliseconds on a CPU, so the load is
    /// the service's (calls, ingests, checkpoints, evaluations, many runs) rather than arithmetic.</summary>
    public static RunSettings TinyRun(int seed) => new()
    {
        Layers = 1, Width = 32, Heads = 2, Context = 32, BatchTokens = 4 * 32, WarmupSteps = 10, CooldownSteps = 40, Seed = seed,
    };

    /// <summary>The first bad value, in one line; null when all are usable.</summary>
    public string? Problem() =>
        Runs < 1 ? $"--runs must be at least 1, not {Runs}"
        : Round < 1 ? $"the round must be at least 1, not {Round}"
        : Ingests < Runs ? $"--ingests must be at least --runs ({Runs}), so that every run trains, not {Ingests}"
        : !(StatusHz > 0 && StatusHz <= 10_000) ? $"--hz must be in (0, 10000], not {StatusHz}"
        : CorpusBytes < 1024 ? $"--corpus-kb must be at least 1, not {CorpusBytes / 1024.0}"
        : Limit <= TimeSpan.Zero ? $"--limit-s must be positive, not {Limit.TotalSeconds}"
        : P99Limit <= TimeSpan.Zero ? $"--p99-limit-ms must be positive, not {P99Limit.TotalMilliseconds}"
        : GrowthLimitBytes < 0 ? $"--growth-limit-mb must be 0 or more, not {GrowthLimitBytes >> 20}"
        : null;
}
