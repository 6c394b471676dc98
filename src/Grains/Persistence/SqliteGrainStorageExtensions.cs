using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Streaming.Grains.Persistence;

/// <summary>Registers <see cref="SqliteGrainStorage"/> as a named grain storage provider.</summary>
public static class SqliteGrainStorageExtensions
{
    /// <summary>Adds grain storage <paramref name="name"/> kept in one SQLite file (<see cref="SqliteGrainStorageOptions.DatabasePath"/>).</summary>
    public static ISiloBuilder AddSqliteGrainStorage(this ISiloBuilder builder, string name, Action<SqliteGrainStorageOptions> configure)
    {
        builder.Services.AddSqliteGrainStorage(name, configure);
        return builder;
    }

    /// <inheritdoc cref="AddSqliteGrainStorage(ISiloBuilder, string, Action{SqliteGrainStorageOptions})"/>
    public static IServiceCollection AddSqliteGrainStorage(this IServiceCollection services, string name, Action<SqliteGrainStorageOptions> configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        services.AddOptions<SqliteGrainStorageOptions>(name).Configure(configure);
        // Fills in the silo's IGrainStorageSerializer when the options leave it unset, as the built-in providers do.
        services.TryAddEnumerable(ServiceDescriptor.Transient<IPostConfigureOptions<SqliteGrainStorageOptions>,
            DefaultStorageProviderSerializerOptionsConfigurator<SqliteGrainStorageOptions>>());
        services.AddKeyedSingleton<IGrainStorage>(name, (sp, _) => SqliteGrainStorage.Create(sp, name));
        return services;
    }
}
