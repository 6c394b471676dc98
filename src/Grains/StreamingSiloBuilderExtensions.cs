using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;

namespace Streaming.Grains;

/// <summary>What a silo needs to host Streaming's grains; shared by the host and the test clusters.</summary>
public static class StreamingSiloBuilderExtensions
{
    public static ISiloBuilder AddStreaming(this ISiloBuilder silo, Action<StreamingOptions> configure)
    {
        silo.Services.Configure(configure);
        silo.AddMemoryGrainStorage(StreamNames.Storage);
        // Trainers subscribe implicitly (stream key = run), so no pub-sub store is needed.
        silo.AddMemoryStreams(StreamNames.Provider, streams => streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly));
        silo.AddStartupTask(RunResumer.ResumeAllAsync);
        return silo;
    }
}
