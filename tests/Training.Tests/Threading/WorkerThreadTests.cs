using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Training.Threading;

namespace Streaming.Training.Tests.Threading;

public sealed class WorkerThreadTests
{
    [Fact]
    public void AnExceptionStaysOnTheThreadAndGoesToTheOwner()
    {
        Exception? handed = null;
        WorkerThread.Start("failing-test", () => throw new InvalidOperationException("first line\nsecond"), NullLogger.Instance, e => handed = e).Join();
        Assert.Equal("first line", WorkerThread.OneLine(handed!));
    }
}
