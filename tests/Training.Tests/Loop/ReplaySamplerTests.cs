using Streaming.Training.Loop;

namespace Streaming.Training.Tests.Loop;

public sealed class ReplaySamplerTests
{
    static readonly Dictionary<string, List<int[]>> Corpora = new()
    {
        ["old"] = [.. Enumerable.Range(0, 5).Select(b => Enumerable.Range(b * 1000, 200).ToArray())],
        ["older"] = [.. Enumerable.Range(0, 3).Select(b => Enumerable.Range(100_000 + b * 1000, 200).ToArray())],
    };

    [Theory]
    [InlineData(32, 0.0, 0)]
    [InlineData(32, 0.05, 2)]    // 0.05 * 32 / 0.95 = 1.68
    [InlineData(32, 0.25, 11)]   // 10.67
    [InlineData(2, 0.25, 1)]     // 0.67
    [InlineData(1, 0.01, 0)]
    public void AddsRowsSoThatTheFractionOfTheBatchIsOld(int newRows, double fraction, int expected) =>
        Assert.Equal(expected, ReplaySampler.RowsFor(newRows, fraction));

    [Fact]
    public void DrawsAreAFunctionOfSeedAndStepAndComeFromEarlierCorpora()
    {
        var sampler = new ReplaySampler(0.25, seed: 7, new InMemoryCorpora(Corpora));
        var first = sampler.Draw(10, ["old", "older"], 32, context: 64);
        Assert.Equal(11, first.Count);
        Assert.Equal(first, sampler.Draw(10, ["old", "older"], 32, 64), new RowComparer());
        Assert.NotEqual(first, sampler.Draw(11, ["old", "older"], 32, 64), new RowComparer());
        Assert.NotEqual(first, new ReplaySampler(0.25, seed: 8, new InMemoryCorpora(Corpora)).Draw(10, ["old", "older"], 32, 64), new RowComparer());
        foreach (var row in first)
        {
            Assert.Equal(65, row.Length);
            // A window of consecutive tokens inside one stored block.
            Assert.All(row.Zip(row.Skip(1)), pair => Assert.Equal(pair.First + 1, pair.Second));
        }
        Assert.Contains(first, row => row[0] >= 100_000);
        Assert.Contains(first, row => row[0] < 100_000);
        Assert.Empty(sampler.Draw(10, [], 32, 64));
    }

    sealed class RowComparer : IEqualityComparer<List<int[]>>
    {
        public bool Equals(List<int[]>? x, List<int[]>? y) => x!.Count == y!.Count && x.Zip(y).All(p => p.First.SequenceEqual(p.Second));
        public int GetHashCode(List<int[]> obj) => obj.Count;
    }
}
