using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;
using Streaming.Grains.Persistence;

namespace Streaming.Integration.Tests.Persistence;

/// <summary>The SQLite provider on its own: round trips, ETag conflicts, and a file that outlives the provider.</summary>
public sealed class SqliteGrainStorageTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("streaming-sqlite-").FullName;
    readonly ServiceProvider services = new ServiceCollection().AddSerializer().BuildServiceProvider();
    readonly GrainId grain = GrainId.Create("test", "a");

    string DbPath => Path.Combine(folder, "nested", SqliteGrainStorageOptions.DefaultFileName);

    SqliteGrainStorage Open() => new("test", new SqliteGrainStorageOptions
    {
        DatabasePath = DbPath,
        GrainStorageSerializer = new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()),
    }, services.GetRequiredService<IActivatorProvider>());

    public void Dispose()
    {
        services.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task WriteReadClearRoundTrip()
    {
        using var storage = Open();
        var empty = new GrainState<Dictionary<string, long>>();
        await storage.ReadStateAsync("s", grain, empty);
        Assert.False(empty.RecordExists);
        Assert.Null(empty.ETag);
        Assert.NotNull(empty.State);
        Assert.Empty(empty.State!);

        var written = new GrainState<Dictionary<string, long>>(new() { ["step"] = 42, ["tokens"] = 1L << 40 });
        await storage.WriteStateAsync("s", grain, written);
        Assert.True(written.RecordExists);
        Assert.NotNull(written.ETag);

        var read = new GrainState<Dictionary<string, long>>();
        await storage.ReadStateAsync("s", grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal(written.State, read.State);

        // Same grain, another state name; another grain, same state name: separate rows.
        var other = new GrainState<Dictionary<string, long>>();
        await storage.ReadStateAsync("other", grain, other);
        Assert.False(other.RecordExists);
        await storage.ReadStateAsync("s", GrainId.Create("test", "b"), other);
        Assert.False(other.RecordExists);

        await storage.ClearStateAsync("s", grain, read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        var cleared = new GrainState<Dictionary<string, long>>();
        await storage.ReadStateAsync("s", grain, cleared);
        Assert.False(cleared.RecordExists);
        Assert.Empty(cleared.State!);

        // Written again after a clear (null ETag), as a fresh record.
        await storage.WriteStateAsync("s", grain, cleared);
        Assert.True(cleared.RecordExists);
        Assert.True(File.Exists(DbPath));
    }

    [Fact]
    public async Task StaleEtagThrowsInconsistentStateException()
    {
        using var storage = Open();
        var first = new GrainState<Dictionary<string, long>>(new() { ["v"] = 1 });
        await storage.WriteStateAsync("s", grain, first);
        var stale = new GrainState<Dictionary<string, long>>();
        await storage.ReadStateAsync("s", grain, stale);

        first.State!["v"] = 2;
        await storage.WriteStateAsync("s", grain, first);

        stale.State!["v"] = 3;
        var conflict = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("s", grain, stale));
        Assert.Equal(first.ETag, conflict.StoredEtag);
        Assert.Equal(stale.ETag, conflict.CurrentEtag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("s", grain, stale));

        // A writer that never read (null ETag) must not overwrite an existing record either.
        var blind = new GrainState<Dictionary<string, long>>(new() { ["v"] = 4 });
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("s", grain, blind));

        var read = new GrainState<Dictionary<string, long>>();
        await storage.ReadStateAsync("s", grain, read);
        Assert.Equal(2, read.State!["v"]);
    }

    [Fact]
    public async Task StateSurvivesReopeningTheFile()
    {
        string? etag;
        using (var storage = Open())
        {
            var state = new GrainState<SortedSet<string>>(["run-a", "run-b"]);
            await storage.WriteStateAsync("runs", grain, state);
            etag = state.ETag;
        }
        using (var reopened = Open())
        {
            var state = new GrainState<SortedSet<string>>();
            await reopened.ReadStateAsync("runs", grain, state);
            Assert.True(state.RecordExists);
            Assert.Equal(etag, state.ETag);
            Assert.Equal(["run-a", "run-b"], state.State);
            state.State!.Add("run-c");
            await reopened.WriteStateAsync("runs", grain, state);
        }
        Assert.True(File.Exists(DbPath));
        Assert.True(File.Exists(DbPath + "-wal") || JournalModeIsWal());
    }

    bool JournalModeIsWal()
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DbPath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        return (string?)command.ExecuteScalar() == "wal";
    }
}
