using Orleans.Storage;

namespace Streaming.Grains.Persistence;

/// <summary>Settings of <see cref="SqliteGrainStorage"/>: where the database file lives and how state is serialized.</summary>
public sealed class SqliteGrainStorageOptions : IStorageProviderSerializerOptions
{
    /// <summary>The default file name under the silo's data folder.</summary>
    public const string DefaultFileName = "grain-state.db";

    /// <summary>Path of the SQLite database file; created (with its folder) when missing. Relative paths are
    /// resolved against the current directory.</summary>
    public string DatabasePath { get; set; } = DefaultFileName;

    /// <summary>How long a write waits for a lock held by another connection to the same file.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The serializer for state; when left unset, the silo's configured <see cref="IGrainStorageSerializer"/>
    /// is filled in (as for Orleans' built-in providers).</summary>
    public IGrainStorageSerializer GrainStorageSerializer { get; set; } = null!;
}
