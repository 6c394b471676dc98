using Streaming.Training.Data;

namespace Streaming.Training.Tests.Data;

/// <summary>The shuffled task order: a bijection for every size, the same for a seed, its own for every seed and corpus,
/// and far from the stored order.</summary>
public class BlockOrderTests
{
    static long[] All(BlockPermutation permutation) => [.. Enumerable.Range(0, (int)permutation.Count).Select(i => permutation[i])];

    [Fact]
    public void IsABijectionForEverySizeUpToAFewThousand()
    {
        for (var n = 0; n <= 3000; n++)
        {
            var values = All(new BlockPermutation((ulong)n * 31 + 7, n));
            Array.Sort(values);
            Assert.True(values.SequenceEqual(Enumerable.Range(0, n).Select(i => (long)i)), $"n = {n}");
        }
    }

    [Theory]
    [InlineData(1_000_003L)]
    [InlineData(4_194_304L)]          // a power of four: no cycle-walking
    [InlineData(3_000_000_000L)]      // more blocks than an int counts
    [InlineData(long.MaxValue)]
    public void LargeRangesStayInRangeWithoutCollisionsOnASample(long n)
    {
        var permutation = new BlockPermutation(42, n);
        var positions = Enumerable.Range(0, 20_000).Select(i => (long)(i * (n / 20_000.0))).Concat([n - 1, n - 2]).Distinct().ToList();
        var values = positions.Select(p => permutation[p]).ToList();
        Assert.All(values, v => Assert.InRange(v, 0, n - 1));
        Assert.Equal(positions.Count, values.Distinct().Count());
    }

    [Fact]
    public void TheSameSeedGivesTheSameOrderAndAnotherSeedAnother()
    {
        Assert.Equal(All(new BlockPermutation(5, 1000)), All(new BlockPermutation(5, 1000)));
        Assert.NotEqual(All(new BlockPermutation(5, 1000)), All(new BlockPermutation(6, 1000)));
    }

    [Theory]
    [InlineData(100)]
    [InlineData(1000)]
    [InlineData(5000)]
    public void IsFarFromTheStoredOrder(int n)
    {
        for (ulong seed = 1; seed <= 20; seed++)
        {
            var values = All(new BlockPermutation(seed, n));
            var fixedPoints = Enumerable.Range(0, n).Count(i => values[i] == i);
            var ascendingNeighbours = Enumerable.Range(0, n - 1).Count(i => values[i + 1] == values[i] + 1);
            // A uniform permutation has about one fixed point and one ascending neighbour pair on average.
            Assert.True(fixedPoints <= Math.Max(5, n / 100), $"n = {n}, seed {seed}: {fixedPoints} fixed points");
            Assert.True(ascendingNeighbours <= Math.Max(5, n / 100), $"n = {n}, seed {seed}: {ascendingNeighbours} ascending neighbours");
        }
    }

    [Fact]
    public void TheCorpusSeedIsStableAndDiffersByCorpusAndRunSeed()
    {
        // Pinned (computed apart, in Python): a hash that changed between versions or processes would reorder a resumed run.
        Assert.Equal(0xABB8DE3152EF9467UL, BlockOrder.SeedOf(1, "english"));
        Assert.NotEqual(BlockOrder.SeedOf(1, "english"), BlockOrder.SeedOf(1, "german"));
        Assert.NotEqual(BlockOrder.SeedOf(1, "english"), BlockOrder.SeedOf(2, "english"));
    }

    [Fact]
    public void ShuffledPermutesTheWholeBlocksAndKeepsAShorterLastBlockLast()
    {
        var order = BlockOrder.Of(3, "english", 50);
        var stored = Enumerable.Range(0, 51).Select(p => order.StoredIndex(p)).ToList();
        Assert.Equal(50, stored[50]);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), stored.Take(50).Order());
        Assert.NotEqual(Enumerable.Range(0, 50).Select(i => (long)i), stored.Take(50));
        Assert.Equal(Enumerable.Range(0, 51).Select(i => (long)i), Enumerable.Range(0, 51).Select(p => BlockOrder.Of(null, "english", 50).StoredIndex(p)));
    }
}
