using Streaming.Training.Checkpoints;
using Streaming.Training.Loop;

namespace Streaming.Training.Tests.Loop;

/// <summary>The loss-spike rule on synthetic loss series: what it reports, what it lets pass, and that its saved state
/// goes on exactly as the live one.</summary>
public sealed class LossSpikesTests
{
    static readonly LossSpikeRule Rule = new();

    /// <summary>A slowly falling loss with noise of about 0.02 around 3.</summary>
    static double[] Quiet(int steps, int seed) =>
        [.. Enumerable.Range(0, steps).Select(i => 3.0 - 0.001 * i + 0.02 * (new Random(seed + i).NextDouble() - 0.5) * 2)];

    static (LossSpikes State, List<LossSpike> Spikes) Run(IEnumerable<double> losses, LossSpikes? from = null, long firstStep = 1)
    {
        var state = from ?? LossSpikes.Empty;
        var spikes = new List<LossSpike>();
        var step = firstStep;
        foreach (var loss in losses)
        {
            state = state.Observe(Rule, step++, loss, out var spike);
            if (spike is not null) spikes.Add(spike);
        }
        return (state, spikes);
    }

    [Fact]
    public void ANoisyFallingLossHasNoSpikes()
    {
        var (state, spikes) = Run(Quiet(2000, 1));
        Assert.Empty(spikes);
        Assert.Equal(0, state.Count);
        Assert.InRange(state.Mean, 1.0, 1.1);
    }

    [Fact]
    public void AJumpIsReportedOnceWithItsStepLossAndReference()
    {
        var losses = Quiet(100, 2);
        losses[60] = 4.5;
        var (state, spikes) = Run(losses);

        var spike = Assert.Single(spikes);
        Assert.Equal(61, spike.Step);
        Assert.Equal(4.5, spike.Loss);
        // The reference is the moving mean plus its margin: above the quiet losses, below the jump.
        Assert.InRange(spike.Reference, losses.Take(60).Max(), 4.5);
        Assert.Equal(1, state.Count);
        Assert.Equal(spike, state.Last);
    }

    [Fact]
    public void NothingIsReportedDuringTheWarmupNorForNonFiniteLosses()
    {
        var losses = Quiet(40, 3);
        losses[5] = 50;                       // within the first 20: no reference yet
        losses[30] = double.NaN;              // a skipped step: counted elsewhere
        losses[31] = double.PositiveInfinity;
        var (state, spikes) = Run(losses);
        Assert.Empty(spikes);
        Assert.Equal(38, state.Observed);
    }

    [Fact]
    public void ALastingRiseIsReportedAtFirstThenBecomesTheReference()
    {
        // A loss that settles one nat higher (a harder stretch of the corpus): a few spikes, then the averages follow.
        var (_, spikes) = Run(Quiet(100, 4).Concat(Quiet(400, 5).Select(l => l + 1)));
        Assert.NotEmpty(spikes);
        Assert.All(spikes, s => Assert.InRange(s.Step, 101, 200));
    }

    [Fact]
    public void ANewTaskStartsTheAveragesAgainAndKeepsTheCount()
    {
        var losses = Quiet(100, 6);
        losses[50] = 5;
        var (state, _) = Run(losses);
        var restarted = state.TaskStarted();
        Assert.Equal(0, restarted.Observed);
        Assert.Equal(1, restarted.Count);
        Assert.Equal(state.Last, restarted.Last);
        // A new corpus whose loss is twice as high is no spike: it is the new task's reference from its first step.
        var (after, spikes) = Run(Quiet(100, 7).Select(l => 2 * l), restarted, 101);
        Assert.Empty(spikes);
        Assert.Equal(1, after.Count);
    }

    [Fact]
    public void TheSavedStateGoesOnExactlyAsTheLiveOne()
    {
        var losses = Quiet(300, 8);
        losses[150] = 6;
        losses[250] = 7;
        var (whole, wholeSpikes) = Run(losses);

        var (half, firstSpikes) = Run(losses.Take(200));
        // Saved and restored as a checkpoint part, as the loop's state is.
        var saved = new CheckpointParts().Set("loop", LoopState.Empty with { LossSpikes = half }).Get<LoopState>("loop").LossSpikes;
        Assert.Equal(half, saved);
        var (resumed, laterSpikes) = Run(losses.Skip(200), saved, 201);

        Assert.Equal(whole, resumed);
        Assert.Equal(wholeSpikes, firstSpikes.Concat(laterSpikes));
        Assert.Equal(2, wholeSpikes.Count);
    }
}
