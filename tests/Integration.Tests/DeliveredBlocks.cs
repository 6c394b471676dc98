using System.Collections.Concurrent;
using Orleans.Streams;
using Streaming.Grains;

namespace Streaming.Integration.Tests;

/// <summary>
/// What the blocks' streams delivered to each run, seen by a silo's incoming-call filter (<see cref="Record"/>): the
/// tokens at every position of each corpus' order, and any position delivered again with other tokens than the first
/// time (a redelivery, or a resume, that read another stored block). Kept across clusters, so a restart is seen whole.
/// </summary>
public sealed class DeliveredBlocks
{
    readonly ConcurrentDictionary<(string Run, string Corpus, long Sequence), int[]> first = new();
    readonly ConcurrentQueue<string> conflicts = new();

    /// <summary>Positions delivered again with other tokens than the first time.</summary>
    public IReadOnlyCollection<string> Conflicts => conflicts;

    /// <summary>Positions [0, blocks) of <paramref name="corpus"/> as delivered to <paramref name="run"/>, each as the index of the
    /// stored block (of <paramref name="storedBlocks"/>) with its tokens; -1 where none was delivered.</summary>
    public long[] StoredIndices(string run, string corpus, long blocks, IReadOnlyList<int[]> storedBlocks)
    {
        var index = storedBlocks.Select((tokens, i) => (Key: string.Join(',', tokens), i)).ToDictionary(b => b.Key, b => (long)b.i);
        Assert.Equal(storedBlocks.Count, index.Count);   // every stored block tells itself apart
        return [.. Enumerable.Range(0, (int)blocks).Select(p => first.TryGetValue((run, corpus, p), out var tokens) ? index[string.Join(',', tokens)] : -1)];
    }

    /// <summary>An incoming-call filter that records every block a trainer is delivered (memory streams deliver them in
    /// batches), then lets the call through.</summary>
    public async Task Record(IIncomingGrainCallContext context)
    {
        if (context.TargetId.Type.ToString() == "trainer")
            for (var i = 0; i < context.Request.GetArgumentCount(); i++)
                if (context.Request.GetArgument(i) is IBatchContainer batch)
                    foreach (var (block, _) in batch.GetEvents<TokenBlock>())
                    {
                        var key = (context.TargetId.Key.ToString()!, block.Corpus, block.Sequence);
                        if (!first.TryAdd(key, block.Tokens) && !first[key].SequenceEqual(block.Tokens)) conflicts.Enqueue($"{key}: other tokens than before");
                    }
        await context.Invoke();
    }
}
