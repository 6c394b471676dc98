using Streaming.Grains;
using Streaming.Training.Loop;

namespace Streaming.Integration.Tests;

/// <summary>The feed of blocks into a run's training: credits, order, redelivery and corpus after corpus, with no silo.</summary>
public sealed class BlockFeedTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    readonly List<CorpusInfo> corpora = [];
    readonly Queue queue = new(capacity: 8);
    readonly Clock clock = new();
    readonly List<(string Corpus, long From, long To)> lost = [];

    BlockFeed Feed(IReadOnlyDictionary<string, long>? cursors = null) =>
        new(() => corpora, cursors ?? new Dictionary<string, long>(), queue, clock, Timeout, (c, from, to) => lost.Add((c, from, to)));

    CorpusInfo Corpus(string name, long blocks)
    {
        var corpus = new CorpusInfo(name, $"/in/{name}.txt", blocks, blocks * 129);
        corpora.Add(corpus);
        return corpus;
    }

    static TokenBlock Block(string corpus, long sequence) => new(corpus, sequence, [(int)sequence]);

    /// <summary>Asks for what the feed wants now and pretends the corpus sent it all; the request.</summary>
    static BlockRequest Ask(BlockFeed feed)
    {
        var request = feed.NextRequest();
        Assert.NotNull(request);
        feed.Requested(request, request.Count);
        return request;
    }

    static void Deliver(BlockFeed feed, string corpus, params long[] sequences)
    {
        foreach (var s in sequences) feed.Accept(Block(corpus, s));
    }

    [Fact]
    public void BlocksInOrderAreEachQueuedOnce()
    {
        Corpus("a", 5);
        var feed = Feed();
        Assert.Equal(new BlockRequest("a", 0, 5), Ask(feed));
        for (var s = 0; s < 5; s++) Assert.True(feed.Accept(Block("a", s)));
        Assert.Equal([("a", 0L), ("a", 1L), ("a", 2L), ("a", 3L), ("a", 4L)], queue.Blocks);
        Assert.Null(feed.NextRequest());
    }

    [Fact]
    public void ALostBlockIsAskedForAgainAfterTheTimeoutAndTrainingGetsEveryBlockOnceInOrder()
    {
        Corpus("a", 6);
        var feed = Feed();
        Ask(feed);
        Deliver(feed, "a", 0, 1, 3, 4, 5);   // 2 is lost: the blocks after it wait for it
        clock.Advance(Timeout - TimeSpan.FromSeconds(1));
        Assert.Null(feed.NextRequest());
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(new BlockRequest("a", 2, 4), Ask(feed));
        Assert.Equal([("a", 2L, 5L)], lost);
        Deliver(feed, "a", 2, 3, 4, 5);
        Assert.Equal([0L, 1, 2, 3, 4, 5], queue.Blocks.Select(b => b.Sequence));
    }

    [Fact]
    public void ADuplicateIsDropped()
    {
        Corpus("a", 4);
        var feed = Feed();
        Ask(feed);
        Assert.True(feed.Accept(Block("a", 0)));
        Assert.False(feed.Accept(Block("a", 0)));
        Assert.True(feed.Accept(Block("a", 1)));
        Assert.False(feed.Accept(Block("a", 0)));
        Assert.Equal([0L, 1], queue.Blocks.Select(b => b.Sequence));
    }

    [Fact]
    public void BlocksOutOfOrderAreTrainedInOrder()
    {
        Corpus("a", 3);
        var feed = Feed();
        Ask(feed);
        Deliver(feed, "a", 1, 0, 2);   // 1 too early: dropped, then 2 waits for it
        Assert.Equal([0L], queue.Blocks.Select(b => b.Sequence));
        clock.Advance(Timeout + TimeSpan.FromSeconds(1));
        Assert.Equal(new BlockRequest("a", 1, 2), Ask(feed));
        Deliver(feed, "a", 1, 2);
        Assert.Equal([0L, 1, 2], queue.Blocks.Select(b => b.Sequence));
    }

    [Fact]
    public void CreditsNeverExceedTheFreeRoomInTheQueue()
    {
        Corpus("a", 100);
        queue.Capacity = 4;
        var feed = Feed();
        Assert.Equal(new BlockRequest("a", 0, 4), Ask(feed));
        Assert.Null(feed.NextRequest());   // four in flight fill the queue
        Deliver(feed, "a", 0, 1);
        Assert.Null(feed.NextRequest());   // two queued, two in flight
        queue.Train(1);
        Assert.Equal(new BlockRequest("a", 4, 1), feed.NextRequest());
    }

    [Fact]
    public void CreditsNeverPassTheCorpusEnd()
    {
        Corpus("a", 3);
        var feed = Feed();
        Assert.Equal(new BlockRequest("a", 0, 3), Ask(feed));
        Assert.Null(feed.NextRequest());
    }

    [Fact]
    public void NoQueueMeansNoRequest()
    {
        Corpus("a", 3);
        queue.Capacity = 0;   // the loop has not started
        Assert.Null(Feed().NextRequest());
    }

    [Fact]
    public void ABlockPastTheRunsEndOfTheCorpusIsIgnored()
    {
        Corpus("a", 2);   // the run trains the first 2 blocks of a longer stored corpus
        Corpus("b", 2);
        var feed = Feed();
        Ask(feed);
        Deliver(feed, "a", 0, 1);
        Assert.False(feed.Accept(Block("a", 2)));
        Assert.Equal(2, queue.Blocks.Count);
    }

    [Fact]
    public void ABlockOfAnotherCorpusIsIgnored()
    {
        Corpus("a", 2);
        Corpus("b", 2);
        var feed = Feed();
        Ask(feed);
        Assert.False(feed.Accept(Block("b", 0)));
        Assert.Empty(queue.Blocks);
    }

    [Fact]
    public void AtTheEndOfACorpusTheFeedMovesToTheNext()
    {
        Corpus("a", 2);
        Corpus("b", 3);
        var feed = Feed();
        Ask(feed);
        Deliver(feed, "a", 0, 1);
        Assert.Equal(new BlockRequest("b", 0, 3), Ask(feed));
        Deliver(feed, "b", 0, 1, 2);
        Assert.Equal([("a", 0L), ("a", 1L), ("b", 0L), ("b", 1L), ("b", 2L)], queue.Blocks);
    }

    [Fact]
    public void ACorpusQueuedAfterTheLastWasFedIsFedWhenItComes()
    {
        Corpus("a", 1);
        var feed = Feed();
        Ask(feed);
        Deliver(feed, "a", 0);
        Assert.Null(feed.NextRequest());
        Corpus("b", 2);
        Assert.Equal(new BlockRequest("b", 0, 2), feed.NextRequest());
    }

    [Fact]
    public void AResumedRunStartsFromItsCursorsMidCorpus()
    {
        Corpus("a", 4);
        Corpus("b", 10);
        var feed = Feed(new Dictionary<string, long> { ["a"] = 4, ["b"] = 6 });
        Assert.Equal(new BlockRequest("b", 6, 4), Ask(feed));
        Assert.False(feed.Accept(Block("b", 5)));   // trained before the checkpoint
        Assert.True(feed.Accept(Block("b", 6)));
        Assert.Equal([("b", 6L)], queue.Blocks);
    }

    [Fact]
    public void ABlockTheFullQueueRefusedIsAskedForAgain()
    {
        Corpus("a", 2);
        var feed = Feed();
        Ask(feed);
        queue.Capacity = 0;   // e.g. the loop was replaced meanwhile
        Assert.False(feed.Accept(Block("a", 0)));
        queue.Capacity = 8;
        clock.Advance(Timeout + TimeSpan.FromSeconds(1));
        Assert.Equal(new BlockRequest("a", 0, 2), feed.NextRequest());
    }

    /// <summary>A training queue that trains only when told to.</summary>
    sealed class Queue(int capacity) : ITrainingQueue
    {
        readonly List<TrainingBlock> queued = [];

        public List<(string Corpus, long Sequence)> Blocks { get; } = [];
        public int Capacity { get; set; } = capacity;
        public int Queued => queued.Count;

        public bool TryEnqueue(TrainingBlock block)
        {
            if (queued.Count >= Capacity) return false;
            queued.Add(block);
            Blocks.Add((block.Corpus, block.Sequence));
            return true;
        }

        public void Train(int blocks) => queued.RemoveRange(0, blocks);
    }

    sealed class Clock : TimeProvider
    {
        DateTimeOffset now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }
}
