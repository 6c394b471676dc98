using Streaming.Training.Loop;

namespace Streaming.Grains;

/// <summary>Where a <see cref="BlockFeed"/> puts blocks: the training loop's bounded queue.</summary>
public interface ITrainingQueue
{
    /// <summary>Blocks the queue holds at most; 0 while there is no queue (the loop has not started).</summary>
    int Capacity { get; }

    /// <summary>Blocks waiting to be trained.</summary>
    int Queued { get; }

    /// <summary>Queues a block; false when the queue is full or there is none.</summary>
    bool TryEnqueue(TrainingBlock block);
}

/// <summary>Ask corpus <paramref name="Corpus"/> to publish its blocks [<paramref name="From"/>, <paramref name="From"/> + <paramref name="Count"/>).</summary>
public sealed record BlockRequest(string Corpus, long From, int Count);

/// <summary>
/// The feed of blocks into one run's training, corpus after corpus in the run's order. Flow control is by credits:
/// <see cref="NextRequest"/> asks the current corpus for as many blocks as the training queue has room for (never
/// past the corpus' end as the run counts it), so memory stays bounded however slow training is. Arriving blocks
/// (<see cref="Accept"/>) are checked against the next expected sequence number: a duplicate, a block of another
/// corpus or past the end is dropped; after a gap nothing is accepted until the first missing block comes, and once
/// nothing has arrived for the redelivery timeout the feed asks again from it. At a corpus' end the feed moves to the next.
/// Training thus gets every block exactly once and in order. Sequence numbers are positions in the run's order of a
/// corpus (the corpus blocks grain maps them to stored blocks). Not thread-safe: one caller (the grain's turns).
/// </summary>
public sealed class BlockFeed
{
    public static readonly TimeSpan DefaultRedeliveryTimeout = TimeSpan.FromSeconds(10);

    readonly Func<IReadOnlyList<CorpusInfo>> corpora;
    readonly Dictionary<string, long> cursors;
    readonly ITrainingQueue queue;
    readonly TimeProvider clock;
    readonly TimeSpan redeliveryTimeout;
    readonly Action<string, long, long>? onLost;

    int current;               // index of the corpus being fetched
    int positioned = -1;       // the index whose cursors below are set
    long nextToRequest;        // next sequence to ask the current corpus for
    long nextToAccept;         // next sequence expected from it
    DateTimeOffset lastArrival;

    /// <param name="corpora">The run's corpora in training order; read on every call, as the run may queue more.</param>
    /// <param name="cursors">The next block to train per corpus (a resumed run's checkpoint); a corpus not in it starts at 0.</param>
    /// <param name="queue">The training queue the blocks go to.</param>
    /// <param name="clock">For the redelivery timeout (the system clock when null).</param>
    /// <param name="onLost">Told (corpus, first, last) of blocks that did not arrive in time and are asked for again.</param>
    public BlockFeed(Func<IReadOnlyList<CorpusInfo>> corpora, IReadOnlyDictionary<string, long> cursors, ITrainingQueue queue,
        TimeProvider? clock = null, TimeSpan? redeliveryTimeout = null, Action<string, long, long>? onLost = null)
    {
        this.corpora = corpora;
        this.cursors = new Dictionary<string, long>(cursors);
        this.queue = queue;
        this.clock = clock ?? TimeProvider.System;
        this.redeliveryTimeout = redeliveryTimeout ?? DefaultRedeliveryTimeout;
        this.onLost = onLost;
        lastArrival = this.clock.GetUtcNow();
    }

    /// <summary>The corpus being fed, or null when every queued corpus has been.</summary>
    public CorpusInfo? Current => Position();

    /// <summary>What to ask for now: the current corpus' next blocks, as many as there are credits; null when none.</summary>
    public BlockRequest? NextRequest()
    {
        if (Position() is not { } corpus) return null;
        if (nextToRequest > nextToAccept && clock.GetUtcNow() - lastArrival > redeliveryTimeout)
        {
            onLost?.Invoke(corpus.Name, nextToAccept, nextToRequest - 1);
            nextToRequest = nextToAccept;
        }
        var room = queue.Capacity - queue.Queued - (nextToRequest - nextToAccept);
        var credits = (int)Math.Min(room, corpus.Blocks - nextToRequest);
        return credits > 0 ? new BlockRequest(corpus.Name, nextToRequest, credits) : null;
    }

    /// <summary>The corpus answered <paramref name="request"/>: it sent <paramref name="sent"/> blocks from its start.</summary>
    public void Requested(BlockRequest request, int sent)
    {
        if (Position() is not { } corpus || corpus.Name != request.Corpus || request.From != nextToRequest || sent <= 0) return;
        // Nothing was in flight: the timeout counts from now, not from the last block of an earlier request.
        if (nextToRequest == nextToAccept) lastArrival = clock.GetUtcNow();
        nextToRequest += sent;
    }

    /// <summary>A block arrived: queued for training if it is the next one expected (true); dropped otherwise.</summary>
    public bool Accept(TokenBlock block)
    {
        if (Position() is not { } corpus || block.Corpus != corpus.Name || block.Sequence != nextToAccept || block.Sequence >= corpus.Blocks
            || !queue.TryEnqueue(new TrainingBlock(block.Corpus, block.Sequence, block.Tokens, corpus.Blocks)))
            return false;
        nextToAccept++;
        if (nextToRequest < nextToAccept) nextToRequest = nextToAccept;
        lastArrival = clock.GetUtcNow();
        return true;
    }

    /// <summary>The current corpus, after moving past every finished one; sets the cursors when it changes.</summary>
    CorpusInfo? Position()
    {
        var list = corpora();
        while (current < list.Count)
        {
            var corpus = list[current];
            if (positioned != current)
            {
                positioned = current;
                nextToRequest = nextToAccept = cursors.GetValueOrDefault(corpus.Name);
            }
            if (nextToAccept < corpus.Blocks) return corpus;
            current++;
        }
        return null;
    }
}

/// <summary>The queue of whatever training loop the run has now (none before its first corpus: no room).</summary>
sealed class TrainingLoopQueue(Func<TrainingLoop?> loop) : ITrainingQueue
{
    public int Capacity => loop()?.QueueCapacity ?? 0;
    public int Queued => loop()?.Queued ?? 0;
    public bool TryEnqueue(TrainingBlock block) => loop()?.TryEnqueue(block) ?? false;
}
