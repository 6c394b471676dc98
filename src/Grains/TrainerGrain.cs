using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using Orleans.Streams.Core;
using Streaming.Training.Data;
using Streaming.Training.Loop;

namespace Streaming.Grains;

/// <summary>
/// One run. Corpora are trained in arrival order. Flow control is by credits: the grain asks the current
/// corpus for as many blocks as the training queue has room for, so memory stays bounded however slow
/// training is. Blocks arrive on the run's stream and are checked against the expected sequence number;
/// a duplicate is dropped, a gap makes the grain ask again from the first missing block.
/// </summary>
[ImplicitStreamSubscription(StreamNames.BlocksNamespace)]
public sealed class TrainerGrain(IOptions<StreamingOptions> options, ILogger<TrainerGrain> logger)
    : Grain, ITrainerGrain, IStreamSubscriptionObserver, IAsyncObserver<TokenBlock>
{
    static readonly TimeSpan PumpPeriod = TimeSpan.FromMilliseconds(200);
    static readonly TimeSpan RedeliveryTimeout = TimeSpan.FromSeconds(10);

    readonly List<CorpusInfo> corpora = [];
    TrainingLoop? loop;
    int current;               // index of the corpus being fetched
    long nextToRequest;        // next sequence to ask the current corpus for
    long nextToAccept;         // next sequence expected on the stream
    DateTime lastArrival = DateTime.UtcNow;

    string Run => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(PumpAsync, new GrainTimerCreationOptions(PumpPeriod, PumpPeriod) { KeepAlive = true });
        return base.OnActivateAsync(cancellationToken);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        loop?.Dispose();
        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    public async Task EnqueueCorpusAsync(CorpusInfo corpus)
    {
        if (corpora.Any(c => c.Name == corpus.Name))
            throw new ArgumentException($"corpus '{corpus.Name}' is already queued in run '{Run}'");
        corpora.Add(corpus);
        await GrainFactory.GetGrain<IRunRegistryGrain>(0).RegisterAsync(Run);
        loop ??= new TrainingLoop(new TrainingLoopOptions
        {
            Model = options.Value.Model,
            Torch = options.Value.Torch,
            Schedule = options.Value.Schedule,
            ValidationBlocks = ValidationBlocks,
            QueueCapacity = options.Value.Window,
        });
        // No pump here: the corpus grain that calls this is waiting for us and could not publish; the timer pumps.
    }

    public Task<RunStatus> GetStatusAsync()
    {
        var p = loop?.Progress ?? TrainingProgress.Empty;
        var progress = corpora.Select(c => new CorpusProgress(c.Name, p.TokensTrained.GetValueOrDefault(c.Name), c.Tokens)).ToList();
        return Task.FromResult(new RunStatus(Run, p.Error is null ? p.Phase : $"failed: {p.Error}", p.Step, p.LearningRate, p.Loss,
            p.TokensPerSecond, null, null, progress, p.Device, p.FirstLoss,
            [.. p.Evaluations.Select(e => new TaskLosses(e.AfterTask, e.Step, e.Loss))]));
    }

    /// <summary>Read on the training thread: the first validation blocks of a corpus, straight from its store.</summary>
    IEnumerable<int[]> ValidationBlocks(string corpus)
    {
        using var store = BlockStore.Open(options.Value.DataDirectory, corpus);
        for (long i = 0; i < Math.Min(store.ValidationBlockCount, options.Value.ValidationBlocks); i++)
            yield return store.ReadValidationBlock(i);
    }

    async Task PumpAsync(CancellationToken cancellationToken)
    {
        if (loop is null || current >= corpora.Count) return;
        var corpus = corpora[current];
        if (nextToRequest > nextToAccept && DateTime.UtcNow - lastArrival > RedeliveryTimeout)
        {
            logger.LogWarning("run {Run}: blocks {From}..{To} of {Corpus} did not arrive; asking again", Run, nextToAccept, nextToRequest - 1, corpus.Name);
            nextToRequest = nextToAccept;
        }
        var credits = loop.QueueCapacity - loop.Queued - (int)(nextToRequest - nextToAccept);
        if (credits <= 0) return;
        var sent = await GrainFactory.GetGrain<ICorpusGrain>(corpus.Name).PublishAsync(Run, nextToRequest, credits);
        if (sent > 0 && nextToRequest == nextToAccept) lastArrival = DateTime.UtcNow;
        nextToRequest += sent;
        if (nextToAccept >= corpus.Blocks)
        {
            current++;
            nextToRequest = nextToAccept = 0;
        }
    }

    public Task OnNextAsync(TokenBlock block, StreamSequenceToken? token = null)
    {
        if (current < corpora.Count && block.Corpus == corpora[current].Name && block.Sequence == nextToAccept
            && loop!.TryEnqueue(new TrainingBlock(block.Corpus, block.Sequence, block.Tokens, corpora[current].Blocks)))
        {
            nextToAccept++;
            lastArrival = DateTime.UtcNow;
        }
        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        logger.LogError(ex, "run {Run}: block stream failed", Run);
        return Task.CompletedTask;
    }

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        await handleFactory.Create<TokenBlock>().ResumeAsync(this);
}
