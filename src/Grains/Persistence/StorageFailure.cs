using Orleans.Storage;
using Streaming.Training.Threading;

namespace Streaming.Grains.Persistence;

/// <summary>Failed state writes that are worth trying again: Redis away (a restart), not a version conflict, which Orleans
/// answers by deactivating the grain so that its next activation reads the state anew.</summary>
static class StorageFailure
{
    public static bool IsTransient(Exception e) => e is (OrleansException or TimeoutException) and not InconsistentStateException;

    /// <summary>One line for a failed storage call: the provider's message, without the diagnostics StackExchange.Redis
    /// appends after " - ".</summary>
    public static string OneLine(Exception e)
    {
        var message = WorkerThread.OneLine(e.InnerException ?? e);
        var end = message.IndexOf(" - ", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message;
    }
}
