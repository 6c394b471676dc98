using Microsoft.Extensions.DependencyInjection;

namespace Streaming.Grains;

/// <summary>
/// At silo start, wakes every known run: a trainer resumes from its last checkpoint when it activates,
/// and nobody else would call it after a restart of the whole cluster.
/// </summary>
public static class RunResumer
{
    public static async Task ResumeAllAsync(IServiceProvider services, CancellationToken cancellation)
    {
        var grains = services.GetRequiredService<IGrainFactory>();
        foreach (var run in await grains.GetGrain<IRunRegistryGrain>(0).GetRunsAsync())
            await grains.GetGrain<ITrainerGrain>(run).GetStatusAsync();
    }
}
