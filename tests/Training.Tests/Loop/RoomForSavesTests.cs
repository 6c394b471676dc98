using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Training.Checkpoints;
using Streaming.Training.Loop;

namespace Streaming.Training.Tests.Loop;

/// <summary>Saves on a full volume wait and try again instead of failing the run; other errors still fail it.</summary>
public sealed class RoomForSavesTests
{
    static IOException NoSpace() => new("No space left on device : '/data/runs/r/checkpoints/step-00000010.tmp-1/model.tensors'", 28);

    [Fact]
    public void AFullVolumeIsToldApartFromOtherErrorsAlsoWhenWrapped()
    {
        Assert.True(DiskFull.Is(NoSpace()));
        Assert.True(DiskFull.Is(new CheckpointException("cannot write checkpoint 'x': No space left on device", NoSpace())));
        Assert.True(DiskFull.Is(new IOException("Disk quota exceeded", 122)));
        Assert.False(DiskFull.Is(new IOException("Input/output error", 5)));
        Assert.False(DiskFull.Is(new CheckpointException("checkpoint 'x' is corrupt")));
        Assert.Matches(@"^data volume full \([\d.,]+ MB free, needs ~1\.5 MB\)$", DiskFull.Describe(Path.GetTempPath(), 1_500_000));
    }

    [Fact]
    public void ASaveThatFindsTheVolumeFullIsPausedReportedAndTriedAgainUntilItFits()
    {
        var reports = new List<string?>();
        var room = new RoomForSaves(reports.Add, NullLogger.Instance, CancellationToken.None);
        var tries = 0;
        // Needs more than any volume has: only the backoff (2 s) brings the second try.
        var saved = room.Save(Path.GetTempPath(), () => long.MaxValue, () => ++tries < 2 ? throw new CheckpointException("cannot write", NoSpace()) : "saved");

        Assert.Equal("saved", saved);
        Assert.Equal(2, tries);
        Assert.Null(reports[^1]);
        Assert.All(reports.SkipLast(1), line => Assert.Matches(@"^data volume full \(.+\); training resumes when space is freed$", line));
        Assert.NotEmpty(reports.SkipLast(1));
    }

    [Fact]
    public void ASaveTriesAgainAsSoonAsTheVolumeHasTheRoomItNeeds()
    {
        var room = new RoomForSaves(_ => { }, NullLogger.Instance, CancellationToken.None);
        var tries = 0;
        var started = DateTime.UtcNow;
        room.Save(Path.GetTempPath(), () => 1, () => ++tries < 2 ? throw NoSpace() : 0);
        Assert.Equal(2, tries);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(1.9), "it waited for the backoff although there was room");
    }

    [Fact]
    public void OtherErrorsAreNotRetriedAndAStoppingLoopEndsTheWait()
    {
        var room = new RoomForSaves(_ => { }, NullLogger.Instance, CancellationToken.None);
        Assert.Throws<CheckpointException>(() => room.Save<int>(Path.GetTempPath(), () => 1, () => throw new CheckpointException("checkpoint 'x' is corrupt")));

        using var stopping = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var reports = new List<string?>();
        var waiting = new RoomForSaves(reports.Add, NullLogger.Instance, stopping.Token);
        Assert.ThrowsAny<OperationCanceledException>(() => waiting.Save<int>(Path.GetTempPath(), () => long.MaxValue, () => throw NoSpace()));
        Assert.Null(reports[^1]);
    }
}
