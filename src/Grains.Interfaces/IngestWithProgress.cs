using System.Diagnostics;

namespace Streaming.Grains;

/// <summary>Runs an ingest and polls its progress while the call is in flight, for whoever draws it (CLI, demo).</summary>
public static class IngestWithProgress
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long polls may keep failing before the caller stops waiting. The ingest call itself may wait an
    /// hour, and a client does not always learn that its silo died; the polls notice within seconds.
    /// </summary>
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Calls <see cref="ICorpusGrain.IngestAsync"/> and, until it ends, hands each progress snapshot to
    /// <paramref name="onProgress"/>. Returns the ingest call's own outcome (result or exception); when
    /// the polls fail for <see cref="GiveUpAfter"/> on end, throws <see cref="IngestContactLostException"/>.
    /// </summary>
    public static async Task<IngestResult> IngestAsync(this IGrainFactory grains, string corpus, IngestRequest request,
        Action<IngestProgressInfo> onProgress, TimeSpan? interval = null, CancellationToken cancellation = default)
    {
        var grain = grains.GetGrain<ICorpusGrain>(corpus);
        var ingest = grain.IngestAsync(request);
        var failing = (Stopwatch?)null;
        while (!ingest.IsCompleted)
        {
            await Task.WhenAny(ingest, Task.Delay(interval ?? DefaultInterval, cancellation));
            cancellation.ThrowIfCancellationRequested();
            if (ingest.IsCompleted) break;
            var poll = grain.GetIngestProgressAsync();
            // A poll never holds up the result: whichever ends first.
            if (await Task.WhenAny(ingest, poll) != poll)
            {
                _ = poll.ContinueWith(static p => p.Exception, TaskContinuationOptions.OnlyOnFaulted);
                break;
            }
            if (poll.IsCompletedSuccessfully)
            {
                failing = null;
                if (poll.Result is { } snapshot) onProgress(snapshot);
                continue;
            }
            failing ??= Stopwatch.StartNew();
            if (failing.Elapsed >= GiveUpAfter)
            {
                _ = ingest.ContinueWith(static i => i.Exception, TaskContinuationOptions.OnlyOnFaulted);
                var reason = poll.Exception?.InnerException?.Message.Split('\n')[0].Trim() ?? "no answer";
                throw new IngestContactLostException($"lost contact with the silo while it was ingesting ({reason}); " +
                    (request.Run is null ? "if it is still up, the ingest goes on there" : $"if it is still up, the ingest goes on there: see `streaming status --run {request.Run}`"));
            }
        }
        return await ingest;
    }
}
