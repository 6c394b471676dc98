using System.Diagnostics;

namespace Streaming.Training.Data;

/// <summary>
/// Reports ingest progress at most every 100 ms, whatever the documents' sizes: often enough for a live
/// bar, rarely enough to cost nothing per document.
/// </summary>
internal sealed class ProgressThrottle(IProgress<IngestProgress>? progress)
{
    private static readonly long Interval = Stopwatch.Frequency / 10;
    private long _last = Stopwatch.GetTimestamp();

    /// <summary>True when a report is due; the caller then builds the snapshot and calls <see cref="Report"/>.</summary>
    public bool Due()
    {
        if (progress is null) return false;
        var now = Stopwatch.GetTimestamp();
        if (now - _last < Interval) return false;
        _last = now;
        return true;
    }

    public void Report(IngestProgress snapshot) => progress?.Report(snapshot);
}
