using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using Streaming.Grains.Telemetry;

namespace Streaming.Grains.Persistence;

/// <summary>
/// Wraps a grain storage provider so that a grain whose state cannot be read is reported, by grain, in the log
/// (one error with the whole exception), in <see cref="StreamingMetrics"/> until a read of it succeeds, and to
/// its callers as one line that names it. The failure still ends the grain's activation: that grain does not
/// start, every other one does. (Other failures, a lost Redis connection say, pass through as they are.)
/// </summary>
sealed class ReportingGrainStorage(IGrainStorage inner, StreamingMetrics metrics, ILogger<ReportingGrainStorage> logger)
    : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        try
        {
            await inner.ReadStateAsync(stateName, grainId, grainState);
        }
        catch (UnreadableStateException e)
        {
            logger.LogError(e, "the stored state '{State}' of {Grain} cannot be read; that grain will not start until it can", stateName, grainId);
            metrics.StateUnreadable(stateName, grainId.ToString());
            throw new UnreadableStateException($"the stored state '{stateName}' of {grainId} cannot be read: {e.Message}");
        }
        metrics.StateReadable(stateName, grainId.ToString());
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.WriteStateAsync(stateName, grainId, grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);

    // Providers that connect at silo start (Redis) take part in the silo's lifecycle through this same object.
    public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);

    /// <summary>Replaces the grain storage registered under <paramref name="name"/> by itself wrapped in a <see cref="ReportingGrainStorage"/>.</summary>
    public static void Wrap(IServiceCollection services, string name)
    {
        var original = services.Last(d => d.ServiceType == typeof(IGrainStorage) && d.IsKeyedService && Equals(d.ServiceKey, name));
        services.Remove(original);
        services.AddKeyedSingleton<IGrainStorage>(name, (provider, key) => new ReportingGrainStorage(
            Create(original, provider, key),
            provider.GetRequiredService<StreamingMetrics>(),
            provider.GetRequiredService<ILogger<ReportingGrainStorage>>()));
    }

    static IGrainStorage Create(ServiceDescriptor original, IServiceProvider provider, object? key) => (IGrainStorage)(
        original.KeyedImplementationFactory?.Invoke(provider, key)
        ?? original.KeyedImplementationInstance
        ?? ActivatorUtilities.CreateInstance(provider, original.KeyedImplementationType!));
}
