using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Streaming.Grains;

/// <summary>
/// At silo start, wakes every known run: a trainer resumes from its last checkpoint when it activates,
/// and nobody else would call it after a restart of the whole cluster. A run that cannot start (its stored
/// state unreadable, say) is logged and skipped: the silo starts and serves every other run.
/// </summary>
public static class RunResumer
{
    public static async Task ResumeAllAsync(IServiceProvider services, CancellationToken cancellation)
    {
        var grains = services.GetRequiredService<IGrainFactory>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RunResumer));
        IReadOnlyList<string> runs;
        try
        {
            runs = await grains.GetGrain<IRunRegistryGrain>(0).GetRunsAsync();
        }
        catch (Exception e)
        {
            logger.LogError(e, "the list of runs cannot be read; no run resumed (each starts when it is called)");
            return;
        }
        foreach (var run in runs)
        {
            try
            {
                await grains.GetGrain<ITrainerGrain>(run).GetStatusAsync();
            }
            catch (Exception e)
            {
                logger.LogError(e, "run {Run} did not resume; the silo serves the other runs", run);
            }
        }
    }
}
