using Orleans.Concurrency;

namespace Streaming.Grains;

/// <summary>
/// The stored blocks of one corpus (keyed by its name), published to runs on request. Apart from the corpus grain,
/// which owns the corpus' state and its ingests: trainers ask here, so a trainer never calls a corpus grain that may be
/// waiting on it during an ingest, and serving blocks never waits behind an ingest of the same corpus.
/// </summary>
public interface ICorpusBlocksGrain : IGrainWithStringKey
{
    /// <summary>Publishes blocks [from, from + count) of <paramref name="blockTokens"/> tokens (the run's batch, plus one) on the
    /// run's stream; blocks past the end are not sent. Returns how many were. The numbers are positions in the run's order
    /// of the corpus: shuffled by <paramref name="shuffleSeed"/> (the run's seed, mixed here with the corpus name), or the
    /// stored order when it is null.</summary>
    Task<int> PublishAsync(string run, long from, int count, int blockTokens, long? shuffleSeed);

    /// <summary>Why the stored corpus has no validation loss to show (one line, "no validation split: corpus NAME ..."),
    /// or null when it has validation tokens: for commands that would otherwise show an empty cell. Interleaves: it reads only
    /// the stored manifest, so `streaming status` does not wait while blocks are published to a run.</summary>
    [AlwaysInterleave]
    Task<string?> GetMissingValidationAsync();
}
