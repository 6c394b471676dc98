namespace Streaming.Grains;

/// <summary>Runs an ingest and polls its progress while the call is in flight, for whoever draws it (CLI, demo).</summary>
public static class IngestWithProgress
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Calls <see cref="ICorpusGrain.IngestAsync"/> and, until it ends, hands each progress snapshot to
    /// <paramref name="onProgress"/>. Progress is best effort: a failed poll is ignored, the ingest call's
    /// own outcome (result or exception) is what this returns.
    /// </summary>
    public static async Task<IngestResult> IngestAsync(this IGrainFactory grains, string corpus, IngestRequest request,
        Action<IngestProgressInfo> onProgress, TimeSpan? interval = null, CancellationToken cancellation = default)
    {
        var grain = grains.GetGrain<ICorpusGrain>(corpus);
        var ingest = grain.IngestAsync(request);
        while (!ingest.IsCompleted)
        {
            await Task.WhenAny(ingest, Task.Delay(interval ?? DefaultInterval, cancellation));
            cancellation.ThrowIfCancellationRequested();
            if (ingest.IsCompleted) break;
            var poll = grain.GetIngestProgressAsync();
            // A poll never holds up the result: whichever ends first. Failed polls are observed and dropped.
            if (await Task.WhenAny(ingest, poll) != poll)
                _ = poll.ContinueWith(static p => p.Exception, TaskContinuationOptions.OnlyOnFaulted);
            else if (poll.IsCompletedSuccessfully && poll.Result is { } snapshot)
                onProgress(snapshot);
            else
                _ = poll.Exception;
        }
        return await ingest;
    }
}
