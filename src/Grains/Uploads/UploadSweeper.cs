using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Streaming.Grains;

/// <summary>
/// Removes uploads nobody has touched for <see cref="StreamingOptions.UploadRetention"/>: ones a client gave up midway,
/// and complete ones whose corpus was ingested long since (its blocks are stored; the same file sent again is simply
/// uploaded again). At the silo's start and every hour after. Touched means a chunk written, a resume begun, or an
/// ingest that read it (<see cref="UploadFolder.CompletePath(string, string)"/>).
/// </summary>
public sealed class UploadSweeper(IOptions<StreamingOptions> options, ILogger<UploadSweeper> logger) : BackgroundService
{
    static readonly TimeSpan Period = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(Period);
        do
        {
            foreach (var line in RemoveExpired(options.Value.DataDirectory, options.Value.UploadRetention, DateTime.UtcNow)) logger.LogWarning("{Cleanup}", line);
        }
        while (await timer.WaitForNextTickAsync(stopping));
    }

    /// <summary>Deletes the uploads last touched before <paramref name="now"/> minus <paramref name="retention"/>; returns what
    /// it did, one line each, for the log. Several silos may sweep the same volume: one that loses the race passes on.</summary>
    public static IReadOnlyList<string> RemoveExpired(string dataRoot, TimeSpan retention, DateTime now)
    {
        var root = UploadFolder.Root(dataRoot);
        if (!Directory.Exists(root)) return [];
        var done = new List<string>();
        foreach (var folder in Directory.GetDirectories(root))
        {
            try
            {
                if (now - LastTouched(folder) < retention) continue;
                Directory.Delete(folder, recursive: true);
                done.Add($"removed the upload {folder}, untouched for over {retention.TotalHours:0.#} h");
            }
            catch (DirectoryNotFoundException)
            {
                // another silo removed it first
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                done.Add($"could not remove the upload {folder}: {e.Message}");
            }
        }
        return done;
    }

    static DateTime LastTouched(string folder) =>
        new DirectoryInfo(folder).EnumerateFileSystemInfos("*", SearchOption.AllDirectories).Select(e => e.LastWriteTimeUtc)
            .Append(Directory.GetLastWriteTimeUtc(folder)).Max();
}
