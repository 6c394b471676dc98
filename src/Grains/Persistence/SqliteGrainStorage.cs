using System.Data;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Streaming.Grains.Persistence;

/// <summary>
/// Grain storage in one embedded SQLite file: one table keyed by (state name, grain id), holding the state
/// serialized by the provider's <see cref="IGrainStorageSerializer"/> and an ETag (a fresh GUID on every write).
/// A write or clear whose ETag does not match the stored one throws <see cref="InconsistentStateException"/>;
/// clearing deletes the row. The file runs in WAL mode, so readers do not block the writer.
/// </summary>
public sealed class SqliteGrainStorage : IGrainStorage, IDisposable
{
    private const string Table = "grain_state";

    private readonly string _name;
    private readonly SqliteGrainStorageOptions _options;
    private readonly IActivatorProvider? _activators;
    private readonly ILogger _logger;
    private readonly string _connectionString;
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private volatile bool _initialized;

    public SqliteGrainStorage(string name, SqliteGrainStorageOptions options, IActivatorProvider? activators = null, ILogger<SqliteGrainStorage>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DatabasePath, nameof(options.DatabasePath));
        ArgumentNullException.ThrowIfNull(options.GrainStorageSerializer, nameof(options.GrainStorageSerializer));
        _name = name;
        _options = options;
        _activators = activators;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        DatabasePath = Path.GetFullPath(options.DatabasePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
        }.ToString();
    }

    /// <summary>The full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>Creates the provider registered under <paramref name="name"/> from the container (named options).</summary>
    public static SqliteGrainStorage Create(IServiceProvider services, string name) => new(
        name,
        services.GetRequiredService<IOptionsMonitor<SqliteGrainStorageOptions>>().Get(name),
        services.GetService<IActivatorProvider>(),
        services.GetService<ILogger<SqliteGrainStorage>>());

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT data, etag FROM {Table} WHERE state_name = $state AND grain_id = $grain";
        command.Parameters.AddWithValue("$state", stateName);
        command.Parameters.AddWithValue("$grain", grainId.ToString());
        await using var reader = await command.ExecuteReaderAsync();
        if (await reader.ReadAsync())
        {
            var data = (byte[])reader.GetValue(0);
            grainState.State = _options.GrainStorageSerializer.Deserialize<T>(new BinaryData(data));
            grainState.ETag = reader.GetString(1);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var data = _options.GrainStorageSerializer.Serialize(grainState.State).ToArray();
        var etag = Guid.NewGuid().ToString("N");
        await using var connection = await OpenAsync();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(IsolationLevel.Serializable);
        var stored = await ReadEtagAsync(connection, transaction, stateName, grainId);
        Check(stored, grainState.ETag, "write", stateName, grainId);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            INSERT INTO {Table} (state_name, grain_id, data, etag, updated_utc) VALUES ($state, $grain, $data, $etag, $now)
            ON CONFLICT (state_name, grain_id) DO UPDATE SET data = excluded.data, etag = excluded.etag, updated_utc = excluded.updated_utc
            """;
        command.Parameters.AddWithValue("$state", stateName);
        command.Parameters.AddWithValue("$grain", grainId.ToString());
        command.Parameters.Add("$data", SqliteType.Blob).Value = data;
        command.Parameters.AddWithValue("$etag", etag);
        command.Parameters.AddWithValue("$now", DateTime.UtcNow.ToString("O"));
        await command.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = await OpenAsync();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(IsolationLevel.Serializable);
        var stored = await ReadEtagAsync(connection, transaction, stateName, grainId);
        Check(stored, grainState.ETag, "clear", stateName, grainId);
        if (stored is not null)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = $"DELETE FROM {Table} WHERE state_name = $state AND grain_id = $grain";
            command.Parameters.AddWithValue("$state", stateName);
            command.Parameters.AddWithValue("$grain", grainId.ToString());
            await command.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
        grainState.State = CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    /// <summary>Returns the pooled connections, so the file is closed (e.g. when the silo stops).</summary>
    public void Dispose()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        _initLock.Dispose();
    }

    private void Check(string? stored, string? expected, string operation, string stateName, GrainId grainId)
    {
        if (stored == expected) return;
        _logger.LogWarning("ETag mismatch on {Operation} of state {State} of {Grain} in storage {Storage}: stored {Stored}, given {Given}",
            operation, stateName, grainId, _name, stored, expected);
        throw new InconsistentStateException(
            $"ETag mismatch on {operation} of state '{stateName}' of grain {grainId} in storage '{_name}': stored '{stored ?? "(none)"}', given '{expected ?? "(none)"}'",
            stored, expected);
    }

    private static async Task<string?> ReadEtagAsync(SqliteConnection connection, SqliteTransaction transaction, string stateName, GrainId grainId)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT etag FROM {Table} WHERE state_name = $state AND grain_id = $grain";
        command.Parameters.AddWithValue("$state", stateName);
        command.Parameters.AddWithValue("$grain", grainId.ToString());
        return await command.ExecuteScalarAsync() as string;
    }

    private T CreateInstance<T>() => _activators is not null ? _activators.GetActivator<T>().Create() : Activator.CreateInstance<T>();

    private async Task<SqliteConnection> OpenAsync()
    {
        if (!_initialized) await InitializeAsync();
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        return connection;
    }

    private async Task InitializeAsync()
    {
        await _initLock.WaitAsync();
        try
        {
            if (_initialized) return;
            if (Path.GetDirectoryName(DatabasePath) is { Length: > 0 } folder) Directory.CreateDirectory(folder);
            await using var connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"""
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                CREATE TABLE IF NOT EXISTS {Table} (
                    state_name  TEXT NOT NULL,
                    grain_id    TEXT NOT NULL,
                    data        BLOB NOT NULL,
                    etag        TEXT NOT NULL,
                    updated_utc TEXT NOT NULL,
                    PRIMARY KEY (state_name, grain_id)
                ) WITHOUT ROWID;
                """;
            await command.ExecuteNonQueryAsync();
            _logger.LogInformation("Grain storage {Storage}: SQLite file {Path}", _name, DatabasePath);
            _initialized = true;
        }
        finally
        {
            _initLock.Release();
        }
    }
}
