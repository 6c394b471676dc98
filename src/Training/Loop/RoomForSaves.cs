using Microsoft.Extensions.Logging;

namespace Streaming.Training.Loop;

/// <summary>
/// The training thread's saves (checkpoints, releases, snapshots) when the data volume is full. Such a save does not stop
/// the run: the thread pauses, reports why in one line, keeps the steps it trained since the last checkpoint in memory,
/// and saves again once the volume has the room the save needs (looked at every <see cref="PollPeriod"/>), or anyway after
/// a backoff (2 s, doubling up to a minute) in case the need was misjudged. Nothing is trained twice: the thread goes on
/// with the next step only once the save is on disk. A failed try leaves nothing behind (a checkpoint's save deletes its
/// temporary folder), so the previous checkpoint and the free space are as they were.
/// </summary>
public sealed class RoomForSaves(Action<string?> report, ILogger logger, CancellationToken stopping)
{
    public static readonly TimeSpan PollPeriod = TimeSpan.FromSeconds(1);
    static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(2), MaxBackoff = TimeSpan.FromMinutes(1);

    /// <summary>Runs <paramref name="save"/>, which writes about <paramref name="needed"/> bytes under <paramref name="path"/>,
    /// until it succeeds; while the volume is full the pause is reported, and cleared once the save is done. Throws
    /// <see cref="OperationCanceledException"/> when the loop stops meanwhile, and whatever else the save throws.</summary>
    public T Save<T>(string path, Func<long> needed, Func<T> save)
    {
        var backoff = FirstBackoff;
        string? paused = null;
        try
        {
            while (true)
            {
                try
                {
                    var saved = save();
                    if (paused is not null) logger.LogInformation("training resumes: {Path} is saved ({Paused} before)", path, paused);
                    return saved;
                }
                catch (Exception e) when (DiskFull.Is(e))
                {
                    var bytes = needed();
                    if (paused is null) logger.LogWarning("training paused: {Path} could not be saved: {Error}", path, ExceptionText.FirstLine(e.Message));
                    var retry = DateTime.UtcNow + backoff;
                    do
                    {
                        paused = $"{DiskFull.Describe(path, bytes)}; training resumes when space is freed";
                        report(paused);
                        if (stopping.WaitHandle.WaitOne(PollPeriod)) stopping.ThrowIfCancellationRequested();
                    }
                    while (DateTime.UtcNow < retry && (DiskFull.FreeBytes(path) ?? 0) < bytes);
                    backoff = backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;
                }
            }
        }
        finally
        {
            if (paused is not null) report(null);
        }
    }
}
