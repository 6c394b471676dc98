using Streaming.Grains;
using Streaming.Training.Evaluation;

namespace Streaming.Integration.Tests;

/// <summary>Snapshots leave the trainer only once its evaluator has taken them.</summary>
public class SnapshotOutboxTests
{
    static Snapshot MainSnapshot(long step) => new($"/data/runs/r/snapshots/main-step-{step:D8}", SnapshotKind.Main, "a", step, ["a"]);

    [Fact]
    public async Task ASendThatFailsKeepsEverySnapshotForTheNext()
    {
        var outbox = new SnapshotOutbox();
        outbox.Add(MainSnapshot(1));
        outbox.Add(MainSnapshot(2));
        await Assert.ThrowsAsync<TimeoutException>(() => outbox.SendAsync(_ => throw new TimeoutException("evaluator moving")));
        outbox.Add(MainSnapshot(3));
        Assert.Equal(3, outbox.Count);

        var taken = new List<SnapshotRef>();
        await outbox.SendAsync(s => { taken.AddRange(s); return Task.CompletedTask; });
        Assert.Equal([1L, 2L, 3L], taken.Select(s => s.Step));
        Assert.Equal(0, outbox.Count);
    }

    [Fact]
    public async Task NothingToSendCallsNobody()
    {
        var outbox = new SnapshotOutbox();
        await outbox.SendAsync(_ => throw new InvalidOperationException("called with nothing to send"));
        Assert.Equal(0, outbox.Count);
    }
}
