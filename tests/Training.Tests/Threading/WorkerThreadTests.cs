using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Training.Native;
using Streaming.Training.Threading;

namespace Streaming.Training.Tests.Threading;

public sealed class WorkerThreadTests
{
    /// <summary>Training and evaluation threads yield the CPU to the threads that answer calls: under load a status call waited
    /// seconds behind 8 runs' training (bench/load.sh) while they ran at the same priority.</summary>
    [Fact]
    public void TheThreadRunsAtALowerPriorityThanTheOneThatStartedIt()
    {
        var caller = LibC.ThisThreadNice();
        int? inside = null;
        var thread = WorkerThread.Start("nice-test", () => inside = LibC.ThisThreadNice(), NullLogger.Instance, e => throw e);
        thread.Join();
        Assert.Equal(WorkerThread.Nice, inside);
        Assert.Equal(caller, LibC.ThisThreadNice());   // the caller keeps its own
    }

    [Fact]
    public void AnExceptionStaysOnTheThreadAndGoesToTheOwner()
    {
        Exception? handed = null;
        WorkerThread.Start("failing-test", () => throw new InvalidOperationException("first line\nsecond"), NullLogger.Instance, e => handed = e).Join();
        Assert.Equal("first line", WorkerThread.OneLine(handed!));
    }
}
