using Streaming.Schedules;

namespace Streaming.Training.Tests.Schedules;

/// <summary>Every kind, planned over tasks, against hand-computed rates and the boundary rules.</summary>
public class ScheduleKindsTests
{
    private static IReadOnlyList<ScheduleRow> Plan(ScheduleConfig c, params long[] tasks) => SchedulePlanner.Plan(c, tasks);

    private static readonly ScheduleConfig Infinite = new()
    {
        Kind = "infinite", MaxLr = 3e-4, ConstLr = 1.65e-4, MinLr = 3e-5, WarmupSteps = 10, CooldownSteps = 40,
    };

    [Fact]
    public void InfiniteWarmupRisesLinearlyAndEndsExactlyAtMax()
    {
        var rows = Plan(Infinite, 100);
        for (var j = 0; j < 10; j++)
        {
            Assert.Equal(SchedulePhase.Warmup, rows[j].Phase);
            Approx.Equal(3e-4 * (j + 1) / 10, rows[j].LearningRate);
        }
        Assert.Equal(3e-4, rows[9].LearningRate);
    }

    [Fact]
    public void InfiniteCooldownStartsJustBelowMaxAndEndsExactlyAtConst()
    {
        var rows = Plan(Infinite, 100);
        Assert.Equal(SchedulePhase.Cooldown, rows[10].Phase);
        Assert.True(rows[10].LearningRate < 3e-4 && rows[10].LearningRate > 2.99e-4);
        // cosine at p = 1/40: const + (max - const) (1 + cos(pi/40)) / 2
        Approx.Equal(1.65e-4 + 1.35e-4 * (1 + Math.Cos(Math.PI / 40)) / 2, rows[10].LearningRate);
        Approx.Equal(1.65e-4 + 1.35e-4 / 2, rows[29].LearningRate); // p = 20/40 = 1/2
        Assert.Equal(SchedulePhase.Cooldown, rows[49].Phase);
        Assert.Equal(1.65e-4, rows[49].LearningRate);
        for (var i = 50; i < 100; i++)
        {
            Assert.Equal(SchedulePhase.Constant, rows[i].Phase);
            Assert.Equal(1.65e-4, rows[i].LearningRate);
        }
    }

    [Theory]
    [InlineData("linear")]
    [InlineData("inverse-sqrt")]
    public void InfiniteOtherCooldownShapes(string shape)
    {
        var rows = Plan(Infinite with { CooldownShape = shape }, 60);
        var expected = shape == "linear"
            ? 3e-4 + (1.65e-4 - 3e-4) * 0.5
            : 3e-4 + (1.65e-4 - 3e-4) * (1 / Math.Sqrt(6) - 1) / (1 / Math.Sqrt(11) - 1); // h(1/2) / h(1)
        Approx.Equal(expected, rows[29].LearningRate);
        Assert.Equal(1.65e-4, rows[49].LearningRate);
    }

    [Fact]
    public void InfiniteWarmsUpOnceAndLaterTasksStartAtConst()
    {
        var rows = Plan(Infinite, 60, 30, 30);
        Assert.All(rows.Where(r => r.Task > 0), r =>
        {
            Assert.Equal(SchedulePhase.Constant, r.Phase);
            Assert.Equal(1.65e-4, r.LearningRate);
        });
    }

    [Fact]
    public void AFirstTaskShorterThanWarmupPlusCooldownCarriesTheCooldownIntoTheNextTask()
    {
        var rows = Plan(Infinite, 20, 40);
        var whole = Plan(Infinite, 60);
        Assert.Equal(whole.Select(r => (r.Phase, r.LearningRate)), rows.Select(r => (r.Phase, r.LearningRate)));
        Assert.Equal(SchedulePhase.Cooldown, rows[20].Phase);
        Assert.Equal(1, rows[20].Task);
    }

    [Fact]
    public void RepeatedCosineRestartsOnEveryTask()
    {
        var config = new ScheduleConfig { Kind = "repeated-cosine", MaxLr = 3e-4, MinLr = 3e-5, WarmupSteps = 10 };
        var rows = Plan(config, 100, 50);
        Assert.Equal(150, rows.Count);
        foreach (var (start, length) in new[] { (0, 100), (100, 50) })
        {
            for (var k = 0; k < length; k++)
            {
                var row = rows[start + k];
                Assert.Equal(start == 0 ? 0 : 1, row.Task);
                if (k < 10)
                {
                    Assert.Equal(SchedulePhase.Warmup, row.Phase);
                    Approx.Equal(3e-4 * (k + 1) / 10, row.LearningRate);
                }
                else
                {
                    Assert.Equal(SchedulePhase.Decay, row.Phase);
                    var p = (double)(k - 10 + 1) / (length - 10);
                    Approx.Equal(3e-5 + 2.7e-4 * (1 + Math.Cos(Math.PI * p)) / 2, row.LearningRate);
                }
            }
            Assert.Equal(3e-4, rows[start + 9].LearningRate);
            Assert.True(rows[start + 10].LearningRate < 3e-4);
            Assert.Equal(3e-5, rows[start + length - 1].LearningRate);
        }
    }

    [Fact]
    public void WsdWarmsUpHoldsMaxAndDecaysInItsBranch()
    {
        var config = new ScheduleConfig { Kind = "wsd", MaxLr = 3e-4, MinLr = 3e-5, WarmupSteps = 4, AnnealFraction = 0.25 };
        var rows = Plan(config, 20, 20);
        Assert.Equal(new[] { "warmup", "warmup", "warmup", "warmup" }, rows.Take(4).Select(r => r.Phase.Name()));
        Assert.All(rows.Skip(4).Take(11), r => Assert.Equal((SchedulePhase.Stable, 3e-4), (r.Phase, r.LearningRate)));
        // branch of A = 5: 1-sqrt from max to min
        for (var j = 0; j < 5; j++)
        {
            var row = rows[15 + j];
            Assert.True(row.InBranch);
            Assert.Equal(SchedulePhase.Decay, row.Phase);
            Approx.Equal(3e-5 + 2.7e-4 * (1 - Math.Sqrt((j + 1) / 5.0)), row.LearningRate);
        }
        Assert.Equal(3e-5, rows[19].LearningRate);
        Assert.Equal((SchedulePhase.Stable, 3e-4), (rows[20].Phase, rows[20].LearningRate));
    }

    [Theory]
    [InlineData("cosine")]
    [InlineData("linear")]
    [InlineData("inverse-sqrt")]
    [InlineData("rex")]
    public void SingleHorizonKindsDecayOverTheTotalOfAllTasks(string kind)
    {
        var config = new ScheduleConfig { Kind = kind, MaxLr = 3e-4, MinLr = 3e-5, WarmupSteps = 10 };
        var rows = Plan(config, 50, 30, 20); // horizon 100, decay over 90
        Assert.Equal(100, rows.Count);
        Assert.Equal(3e-4, rows[9].LearningRate);
        var p = 45.0 / 90; // row 54
        var expected = kind switch
        {
            "cosine" => 3e-5 + 2.7e-4 * 0.5,
            "linear" => 3e-4 - 2.7e-4 * p,
            "inverse-sqrt" => 3e-4 - 2.7e-4 * (1 / Math.Sqrt(6) - 1) / (1 / Math.Sqrt(11) - 1),
            _ => 3e-5 + 2.7e-4 * (2.0 / 3.0),
        };
        Approx.Equal(expected, rows[54].LearningRate);
        Assert.All(rows.Skip(10), r => Assert.Equal(SchedulePhase.Decay, r.Phase));
        Assert.Equal(3e-5, rows[99].LearningRate);
        Assert.Equal(new[] { 0, 1, 2 }, rows.Select(r => r.Task).Distinct());
    }

    [Fact]
    public void ConstantWarmsUpToConstAndStays()
    {
        var config = new ScheduleConfig { Kind = "constant", ConstLr = 1e-4, WarmupSteps = 4 };
        var rows = Plan(config, 10);
        Approx.Equal(2.5e-5, rows[0].LearningRate);
        Assert.Equal(1e-4, rows[3].LearningRate);
        Assert.All(rows.Skip(4), r => Assert.Equal((SchedulePhase.Constant, 1e-4), (r.Phase, r.LearningRate)));
    }

    [Fact]
    public void StepsCountEveryExecutedStepFromZero()
    {
        var rows = Plan(Infinite with { AnnealFraction = 0.15 }, 100, 80, 60);
        Assert.Equal(Enumerable.Range(0, 240).Select(i => (long)i), rows.Select(r => r.Step));
    }
}
