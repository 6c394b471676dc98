using Microsoft.Extensions.Logging;

namespace Streaming.Training.Threading;

/// <summary>
/// The library's one error policy for its dedicated threads (training, evaluation): an exception never leaves the
/// thread, which would end the process with every other run on it; it is logged whole and handed to the owner, who
/// makes it visible (status and metrics). Work items are handled by the owner's loop, each failure caught there.
/// </summary>
public static class WorkerThread
{
    /// <summary>Starts <paramref name="body"/> on a background thread named <paramref name="name"/>.</summary>
    public static Thread Start(string name, Action body, ILogger logger, Action<Exception> failed)
    {
        var thread = new Thread(() =>
        {
            try
            {
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
