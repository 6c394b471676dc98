using Microsoft.Extensions.Logging;
using Streaming.Training.Data;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Storage;
using Orleans.Streams;
using StackExchange.Redis;
using Streaming.Grains.Persistence;
using Streaming.Grains.Placement;
using Streaming.Grains.Reminders;
using Streaming.Grains.Telemetry;

namespace Streaming.Grains;

/// <summary>What a silo needs to host Streaming's grains; shared by the host and the test clusters.</summary>
public static partial class StreamingSiloBuilderExtensions
{
    /// <summary>The grain-state choices of <see cref="StreamingOptions.Storage"/>.</summary>
    public static readonly IReadOnlyList<string> StorageKinds = ["sqlite", "redis", "memory"];

    /// <summary>The reminder-service choices of <see cref="StreamingOptions.Reminders"/>.</summary>
    public static readonly IReadOnlyList<string> ReminderKinds = ["silo", "memory", "redis"];

    /// <summary>Adds Streaming's grains' needs. <paramref name="configure"/> is also run once here, on fresh options,
    /// to pick the grain storage (<see cref="StreamingOptions.Storage"/>); a bad choice throws <see cref="ArgumentException"/>
    /// with a one-line message.</summary>
    public static ISiloBuilder AddStreaming(this ISiloBuilder silo, Action<StreamingOptions> configure)
    {
        silo.Services.Configure(configure);
        var options = new StreamingOptions();
        configure(options);
        silo.AddStreamingStorage(options);
        silo.AddStreamingReminders(options);
        silo.AddStreamingPlacement(options);
        silo.Services.AddMetrics();
        silo.Services.AddSingleton<StreamingMetrics>();
        // Trainers subscribe implicitly (stream key = run), so no pub-sub store is needed.
        silo.AddMemoryStreams(StreamNames.Provider, streams => streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly));
        // First what killed ingests left behind (before any new ingest can start), then every run resumes.
        silo.AddStartupTask((services, _) =>
        {
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Streaming.Startup");
            foreach (var line in CorpusIngestor.RemoveLeftovers(options.DataDirectory)) logger.LogWarning("{Cleanup}", line);
            return Task.CompletedTask;
        }, ServiceLifecycleStage.Active - 1);
        silo.AddStartupTask(RunResumer.ResumeAllAsync);
        silo.Services.AddHostedService<UploadSweeper>();
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
                var redis = ParseRedis(options.RedisConnectionString, "grain storage 'redis'");
                silo.AddRedisGrainStorage(StreamNames.Storage, o => o.ConfigurationOptions = redis.Clone());
                break;
            default:
                silo.AddMemoryGrainStorage(StreamNames.Storage);
                break;
        }
        // Every provider stores state in the one format that reads back whatever collection types the state holds
        // (docs/persistence.md), and reports a grain whose state it cannot read instead of failing the silo's start.
        silo.Services.AddSingleton<IGrainStorageSerializer, GrainStateSerializer>();
        ReportingGrainStorage.Wrap(silo.Services, StreamNames.Storage);
        return silo;
    }

    /// <summary>Registers the reminder service that keeps trainers alive (see TrainerGrain.Failover.cs).</summary>
    public static ISiloBuilder AddStreamingReminders(this ISiloBuilder silo, StreamingOptions options)
    {
        var kind = options.Reminders?.Trim().ToLowerInvariant();
        if (kind is null || !ReminderKinds.Contains(kind))
            throw new ArgumentException($"unknown reminder service '{options.Reminders}': use one of {string.Join(", ", ReminderKinds)}");
        if (kind == "silo")
            silo.AddReminders().Services.AddSingleton<IReminderTable, SiloReminderTable>();
        else if (kind == "memory")
            silo.UseInMemoryReminderService();
        else
        {
            var redis = ParseRedis(options.RedisConnectionString, "reminders 'redis'");
            silo.UseRedisReminderService(o => o.ConfigurationOptions = redis.Clone());
        }
        return silo;
    }

    /// <summary>Labels this silo with its accelerator and trainer slots (silo metadata) and sends trainers to cuda silos when any exist.</summary>
    public static ISiloBuilder AddStreamingPlacement(this ISiloBuilder silo, StreamingOptions options)
    {
        var accelerator = options.Accelerator?.Trim().ToLowerInvariant();
        if (accelerator is not (SiloAccelerator.Cuda or SiloAccelerator.Cpu))
            throw new ArgumentException($"unknown accelerator '{options.Accelerator}': use {SiloAccelerator.Cuda} or {SiloAccelerator.Cpu}");
        if (options.TrainerSlots < 1) throw new ArgumentException($"trainer slots must be at least 1, not {options.TrainerSlots}");
        silo.UseSiloMetadata(new Dictionary<string, string>
        {
            [SiloAccelerator.MetadataKey] = accelerator,
            [TrainerSlots.MetadataKey] = options.TrainerSlots.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        // Transient: Orleans initializes each strategy instance from the grain type's properties.
        silo.Services.AddPlacementFilter<PreferAcceleratorSilosStrategy, PreferAcceleratorSilosDirector>(ServiceLifetime.Transient);
        silo.Services.AddPlacementFilter<PreferCpuSilosStrategy, PreferAcceleratorSilosDirector>(ServiceLifetime.Transient);
        return silo;
    }

    /// <summary>Checks the storage choice and returns it normalized (sqlite, redis or memory); a bad one throws
    /// <see cref="ArgumentException"/> with a one-line message.</summary>
    public static string ValidateStorage(StreamingOptions options)
    {
        var kind = options.Storage?.Trim().ToLowerInvariant();
        if (kind is null || !StorageKinds.Contains(kind))
            throw new ArgumentException($"unknown grain storage '{options.Storage}': use one of {string.Join(", ", StorageKinds)}");
        if (kind == "redis") ParseRedis(options.RedisConnectionString, "grain storage 'redis'");
        return kind;
    }

    /// <summary>Parses a Redis connection string; a missing or bad one throws <see cref="ArgumentException"/>
    /// with a one-line message that names <paramref name="user"/>.</summary>
    public static ConfigurationOptions ParseRedis(string? connectionString, string user)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ArgumentException($"{user} needs a Redis connection string (--redis HOST:PORT)");
        try
        {
            return ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"bad Redis connection string '{Redacted(connectionString)}': {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    /// <summary>A Redis connection string fit for a log or an error line: its password (and user) replaced by ***.</summary>
    public static string Redacted(string? connectionString) =>
        RedisSecret().Replace(connectionString ?? "", match => $"{match.Groups[1].Value}=***");

    [System.Text.RegularExpressions.GeneratedRegex(@"(?i)\b(password|user)\s*=[^,]*")]
    private static partial System.Text.RegularExpressions.Regex RedisSecret();

    /// <summary>The SQLite file of the default storage: <c>grain-state.db</c> under the data folder.</summary>
    public static string SqliteStoragePath(StreamingOptions options) =>
        Path.GetFullPath(Path.Combine(options.DataDirectory, SqliteGrainStorageOptions.DefaultFileName));
}
