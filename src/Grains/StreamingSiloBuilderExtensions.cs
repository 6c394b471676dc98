using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;
using StackExchange.Redis;
using Streaming.Grains.Persistence;

namespace Streaming.Grains;

/// <summary>What a silo needs to host Streaming's grains; shared by the host and the test clusters.</summary>
public static class StreamingSiloBuilderExtensions
{
    /// <summary>The grain-state choices of <see cref="StreamingOptions.Storage"/>.</summary>
    public static readonly IReadOnlyList<string> StorageKinds = ["sqlite", "redis", "memory"];

    /// <summary>Adds Streaming's grains' needs. <paramref name="configure"/> is also run once here, on fresh options,
    /// to pick the grain storage (<see cref="StreamingOptions.Storage"/>); a bad choice throws <see cref="ArgumentException"/>
    /// with a one-line message.</summary>
    public static ISiloBuilder AddStreaming(this ISiloBuilder silo, Action<StreamingOptions> configure)
    {
        silo.Services.Configure(configure);
        var options = new StreamingOptions();
        configure(options);
        silo.AddStreamingStorage(options);
        // Trainers subscribe implicitly (stream key = run), so no pub-sub store is needed.
        silo.AddMemoryStreams(StreamNames.Provider, streams => streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly));
        silo.AddStartupTask(RunResumer.ResumeAllAsync);
        return silo;
    }

    /// <summary>Registers grain storage <see cref="StreamNames.Storage"/> as <paramref name="options"/> choose.</summary>
    public static ISiloBuilder AddStreamingStorage(this ISiloBuilder silo, StreamingOptions options)
    {
        switch (ValidateStorage(options))
        {
            case "sqlite":
                var path = SqliteStoragePath(options);
                silo.AddSqliteGrainStorage(StreamNames.Storage, o => o.DatabasePath = path);
                break;
            case "redis":
                var redis = ConfigurationOptions.Parse(options.RedisConnectionString!);
                silo.AddRedisGrainStorage(StreamNames.Storage, o => o.ConfigurationOptions = redis.Clone());
                break;
            default:
                silo.AddMemoryGrainStorage(StreamNames.Storage);
                break;
        }
        return silo;
    }

    /// <summary>Checks the storage choice and returns it normalized (sqlite, redis or memory); a bad one throws
    /// <see cref="ArgumentException"/> with a one-line message.</summary>
    public static string ValidateStorage(StreamingOptions options)
    {
        var kind = options.Storage?.Trim().ToLowerInvariant();
        if (kind is null || !StorageKinds.Contains(kind))
            throw new ArgumentException($"unknown grain storage '{options.Storage}': use one of {string.Join(", ", StorageKinds)}");
        if (kind != "redis") return kind;
        if (string.IsNullOrWhiteSpace(options.RedisConnectionString))
            throw new ArgumentException("grain storage 'redis' needs a Redis connection string (--redis HOST:PORT)");
        try
        {
            ConfigurationOptions.Parse(options.RedisConnectionString);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"bad Redis connection string '{options.RedisConnectionString}': {e.Message.ReplaceLineEndings(" ")}");
        }
        return kind;
    }

    /// <summary>The SQLite file of the default storage: <c>grain-state.db</c> under the data folder.</summary>
    public static string SqliteStoragePath(StreamingOptions options) =>
        Path.GetFullPath(Path.Combine(options.DataDirectory, SqliteGrainStorageOptions.DefaultFileName));
}
