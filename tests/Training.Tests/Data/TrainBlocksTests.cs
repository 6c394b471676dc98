using CsCheck;
using Streaming.Training.Data;

namespace Streaming.Training.Tests.Data;

/// <summary>A run's blocks over a corpus: every one predicts something (two tokens or more), together they hold the tokens
/// said to be trained, and only a last token that predicts nothing is left out.</summary>
public class TrainBlocksTests
{
    [Theory]
    [InlineData(1026, 1025, 1, 1025)]
    [InlineData(1026, 5, 205, 1025)]
    [InlineData(1027, 5, 206, 1027)]
    [InlineData(1, 9, 0, 0)]
    [InlineData(2, 9, 1, 2)]
    [InlineData(0, 9, 0, 0)]
    public void ALastBlockOfOneTokenIsNoBlockAndNoWork(long tokens, int blockTokens, long blocks, long trained)
    {
        Assert.Equal(blocks, TrainBlocks.Count(tokens, blockTokens));
        Assert.Equal(trained, TrainBlocks.Tokens(tokens, blockTokens));
    }

    [Fact]
    public void TheBlocksHoldExactlyTheTokensCountedAndEachPredictsSomething() =>
        Gen.Select(Gen.Long[0, 1_000_000], Gen.Int[2, 5_000]).Sample((tokens, blockTokens) =>
        {
            var blocks = TrainBlocks.Count(tokens, blockTokens);
            var lengths = Enumerable.Range(0, (int)blocks).Select(i => Math.Min(blockTokens, tokens - (long)i * blockTokens)).ToList();
            return lengths.All(l => l >= 2) && lengths.Sum() == TrainBlocks.Tokens(tokens, blockTokens)
                && tokens - TrainBlocks.Tokens(tokens, blockTokens) <= 1 && blocks * blockTokens + 1 >= tokens;
        });
}
