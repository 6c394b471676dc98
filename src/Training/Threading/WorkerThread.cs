using Microsoft.Extensions.Logging;
using Streaming.Training.Native;

namespace Streaming.Training.Threading;

/// <summary>
/// The library's one error policy for its dedicated threads (training, evaluation): an exception never leaves the
/// thread, which would end the process with every other run on it; it is logged whole and handed to the owner, who
/// makes it visible (status and metrics). Work items are handled by the owner's loop, each failure caught there.
/// These threads run at a lower priority (<see cref="Nice"/>) than the threads that answer calls, so that when the CPUs are
/// short a status call or an ingest's bookkeeping goes first instead of waiting behind every run's training and evaluation.
/// </summary>
public static class WorkerThread
{
    /// <summary>The dedicated threads' nice value: a tenth of a normal thread's CPU share under contention (Linux weights 110 to
    /// 1024), and all of an idle CPU.</summary>
    public const int Nice = 10;

    /// <summary>Starts <paramref name="body"/> on a background thread named <paramref name="name"/>, at <see cref="Nice"/>.</summary>
    public static Thread Start(string name, Action body, ILogger logger, Action<Exception> failed)
    {
        var thread = new Thread(() =>
        {
            try
            {
                LibC.SetThisThreadNice(Nice);   // where it cannot be lowered, the thread runs as it would have
                body();
            }
            catch (Exception e)
            {
                logger.LogError(e, "the {Thread} thread stopped: {Error}", name, e.Message);
                failed(e);
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }

    /// <summary>An exception's message as one line, for status and results (the log has the whole exception).</summary>
    public static string OneLine(Exception e) => ExceptionText.FirstLine(e.Message);
}
