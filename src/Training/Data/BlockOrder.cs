using System.Text;

namespace Streaming.Training.Data;

/// <summary>
/// Which stored block a run trains at each position of a task: the run's cursors count positions in the task's order,
/// and the order maps them to stored blocks where the blocks are read, so exactly-once bookkeeping never sees the
/// shuffle. Shuffled, the whole blocks are permuted and a shorter last block stays last: a task capped to its first
/// N positions then still trains N whole blocks.
/// </summary>
public sealed class BlockOrder
{
    readonly BlockPermutation? shuffle;

    BlockOrder(BlockPermutation? shuffle) => this.shuffle = shuffle;

    /// <summary>The stored order.</summary>
    public static readonly BlockOrder File = new(null);

    /// <summary>The order of corpus <paramref name="corpus"/> with <paramref name="wholeBlocks"/> whole blocks under run seed
    /// <paramref name="runSeed"/>; null: file order.</summary>
    public static BlockOrder Of(long? runSeed, string corpus, long wholeBlocks) =>
        runSeed is { } seed ? new(new BlockPermutation(SeedOf(seed, corpus), wholeBlocks)) : File;

    /// <summary>The run's seed mixed with a stable hash of the corpus name (FNV-1a of its UTF-8; string.GetHashCode differs
    /// per process): two corpora get different orders, and a resumed run, in any process, the same ones.</summary>
    public static ulong SeedOf(long runSeed, string corpus)
    {
        var hash = 0xCBF29CE484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(corpus)) hash = unchecked((hash ^ b) * 0x100000001B3UL);
        return BlockPermutation.Mix(unchecked((ulong)runSeed ^ BlockPermutation.Mix(hash)));
    }

    /// <summary>The stored block at <paramref name="position"/> of the task.</summary>
    public long StoredIndex(long position) => shuffle is { } p && position >= 0 && position < p.Count ? p[position] : position;
}
