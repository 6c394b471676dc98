using Microsoft.Extensions.Options;
using Orleans.Streams;
using Streaming.Training.Data;

namespace Streaming.Grains;

/// <summary>What a corpus grain remembers: where its blocks are stored, and which run it was queued on.</summary>
[GenerateSerializer]
public sealed class CorpusState
{
    [Id(0)] public string? Source { get; set; }
    [Id(1)] public string? Run { get; set; }
    [Id(2)] public long Blocks { get; set; }
    [Id(3)] public long Tokens { get; set; }
}

/// <summary>
/// One corpus. Ingest tokenizes the source into a durable block store under the data folder (off the
/// grain scheduler: it is CPU-bound) and queues the corpus on its run; the store is the durable log, so
/// any block can be published again whenever a trainer asks.
/// </summary>
public sealed class CorpusGrain(
    IOptions<StreamingOptions> options,
    [PersistentState("corpus", StreamNames.Storage)] IPersistentState<CorpusState> state) : Grain, ICorpusGrain
{
    BlockStore? store;

    string Name => this.GetPrimaryKeyString();

    public async Task<CorpusInfo> IngestAsync(IngestRequest request)
    {
        if (state.State.Source is { } source && (source != request.Path || state.State.Run != request.Run))
            throw new ArgumentException($"corpus name '{Name}' is already used (for {source} on run {state.State.Run}); choose another --name");
        var settings = options.Value;
        var ingest = new IngestOptions { BlockSize = settings.BlockTokens };
        var manifest = await Task.Run(() =>
            CorpusIngestor.Ingest(request.Path, settings.DataDirectory, Name, Tokenizers.Create(settings.Tokenizer), ingest));
        state.State = new CorpusState { Source = request.Path, Run = request.Run, Blocks = manifest.TrainBlocks, Tokens = manifest.TrainTokens };
        await state.WriteStateAsync();
        var info = Info();
        await GrainFactory.GetGrain<ITrainerGrain>(request.Run).EnqueueCorpusAsync(info);
        return info;
    }

    public async Task<int> PublishAsync(string run, long from, int count)
    {
        store ??= BlockStore.Open(options.Value.DataDirectory, Name);
        var stream = this.GetStreamProvider(StreamNames.Provider).GetStream<TokenBlock>(StreamId.Create(StreamNames.BlocksNamespace, run));
        var end = Math.Min(store.TrainBlockCount, from + count);
        for (var sequence = from; sequence < end; sequence++)
            await stream.OnNextAsync(new TokenBlock(Name, sequence, store.ReadBlock(sequence)));
        return (int)Math.Max(0, end - from);
    }

    public Task<CorpusInfo> GetInfoAsync() => Task.FromResult(Info());

    CorpusInfo Info() => new(Name, state.State.Source ?? "", state.State.Blocks, state.State.Tokens);

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        store?.Dispose();
        return base.OnDeactivateAsync(reason, cancellationToken);
    }
}
