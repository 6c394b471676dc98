using Microsoft.Extensions.Options;
using Orleans.Streams;
using Streaming.Training.Data;

namespace Streaming.Grains;

/// <summary>
/// Reads a corpus' stored blocks and publishes them on a run's stream. A stored corpus never changes: an ingest of
/// the same source again finds it and leaves it as it is, another source under the name is refused, and only a first
/// ingest that could not be queued anywhere deletes it (no run can be asking then). So reading needs no coordination
/// with the corpus grain, which may meanwhile be busy with an ingest for a long time: serving blocks never waits for it.
/// </summary>
public sealed class CorpusBlocksGrain(IOptions<StreamingOptions> options) : Grain, ICorpusBlocksGrain
{
    BlockStore? store;

    public async Task<int> PublishAsync(string run, long from, int count, int blockTokens, long? shuffleSeed)
    {
        var name = this.GetPrimaryKeyString();
        var stream = this.GetStreamProvider(StreamNames.Provider).GetStream<TokenBlock>(StreamId.Create(StreamNames.BlocksNamespace, run));
        try
        {
            store ??= BlockStore.Open(options.Value.DataDirectory, name);
            var order = BlockOrder.Of(shuffleSeed, name, store.TrainTokens / blockTokens);
            var end = Math.Min(store.TrainBlockCountOf(blockTokens), from + count);
            for (var sequence = from; sequence < end; sequence++)
                await stream.OnNextAsync(new TokenBlock(name, sequence, store.ReadBlock(order.StoredIndex(sequence), blockTokens)));
            return (int)Math.Max(0, end - from);
        }
        catch (CorpusFormatException e)
        {
            // Not the block that fails a checksum, nor any after it: the run stops on this line.
            throw new DamagedCorpusException(e.Message);
        }
    }

    public Task<string?> GetMissingValidationAsync()
    {
        var name = this.GetPrimaryKeyString();
        try
        {
            // The manifest, not the open store: a corpus without blocks yet (or no longer) is said so instead of cached.
            return Task.FromResult(CorpusManifest.Load(BlockStore.CorpusDirectory(options.Value.DataDirectory, name)).MissingValidation());
        }
        catch (Exception e) when (e is CorpusFormatException or ArgumentException or IOException)
        {
            return Task.FromResult<string?>($"no validation split: corpus {name} cannot be read ({e.Message.ReplaceLineEndings(" ")})");
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        store?.Dispose();
        return base.OnDeactivateAsync(reason, cancellationToken);
    }
}
