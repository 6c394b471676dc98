using Streaming.Grains;

namespace Streaming.Integration.Tests;

public sealed class LossMatrixTests
{
    static TaskLosses Row(string task, params (string Corpus, double Loss)[] losses) =>
        new(task, 0, losses.ToDictionary(l => l.Corpus, l => l.Loss));

    [Fact]
    public void ForgettingIsTheNewestLossMinusTheLossRightAfterTheCorpusOwnTask()
    {
        var rows = new[]
        {
            Row("a", ("a", 2.0)),
            Row("b", ("a", 2.5), ("b", 3.0)),
            Row("c", ("a", 2.25), ("b", 3.5), ("c", 1.0)),
        };
        var forgetting = LossMatrix.Forgetting(rows);
        Assert.Equal(0.25, forgetting["a"], 12);
        Assert.Equal(0.5, forgetting["b"], 12);
        Assert.Equal(0.0, forgetting["c"], 12);
        Assert.Empty(LossMatrix.Forgetting([]));
    }
}
