using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;
using Streaming.Grains;
using Streaming.Integration.Tests.Persistence;
using Streaming.Training.Checkpoints;
using Streaming.Training.Data;
using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Schedules;
using Xunit.Abstractions;

namespace Streaming.Integration.Tests;

/// <summary>
/// Clustered mode survives a Redis restart. Two silos keep membership, grain state and reminders in one redis-server
/// that runs as deploy/k8s runs it (append-only file, fsync every second). While a run trains, redis-server is stopped
/// for 5 s and started again on the same port with the same data, once mid-run and once over the run's last steps; the
/// run must train to the end by itself, every token exactly once, its status answering throughout, and Redis must hold
/// its end afterwards (a new cluster on it sees the run finished at its last checkpoint).
/// </summary>
public sealed class RedisRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    static readonly TimeSpan Outage = TimeSpan.FromSeconds(5);

    readonly string data = Directory.CreateTempSubdirectory("streaming-redis-restart-").FullName;
    readonly string serviceId = "redis-restart-" + Guid.NewGuid().ToString("N");
    readonly CapturedLog log = new();
    InProcessTestCluster? cluster;
    RedisServer redis = null!;

    public async Task InitializeAsync() => redis = await RedisServer.StartAppendOnlyAsync();

    public async Task DisposeAsync()
    {
        if (cluster is not null) await cluster.DisposeAsync();
        await redis.DisposeAsync();
        Directory.Delete(data, recursive: true);
    }

    /// <summary>The operator's stop (a pod deleted or rolled): Redis writes its file and exits.</summary>
    [Fact]
    public Task TrainingGoesOnAfterRedisIsStoppedWithSigtermAndStartedAgain() => TrainThroughARedisRestartAsync(kill: false);

    /// <summary>A crash or an out-of-memory kill: up to the last second of writes may be lost with it.</summary>
    [Fact]
    public Task TrainingGoesOnAfterRedisIsKilledAndStartedAgain() => TrainThroughARedisRestartAsync(kill: true);

    async Task TrainThroughARedisRestartAsync(bool kill)
    {
        var clock = Stopwatch.StartNew();
        cluster = await StartClusterAsync(silos: 2);
        Assert.Contains("Redis", cluster.Silos[0].SiloHost.Services.GetRequiredService<IMembershipTable>().GetType().Name);
        var info = await IngestAsync(cluster);
        var trainer = cluster.Client.GetGrain<ITrainerGrain>("redis-restart");
        var signal = kill ? "SIGKILL" : "SIGTERM";

        // Mid-run: the run must take up training again once Redis is back.
        var before = await WaitForAsync(trainer, s => s.Step >= 10 && s.LastCheckpoint is not null, TimeSpan.FromMinutes(1));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s: step {before.Step} of {info.Blocks}, checkpoint {Path.GetFileName(before.LastCheckpoint)}; stopping Redis ({signal})");
        var during = await OutageAsync(trainer, kill, _ => true, TimeSpan.Zero);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s: Redis back; step {during.Step} during the outage");
        if (kill) await LoseAnAnswerAsync();
        var restarted = await WaitForAsync(trainer, _ => true, TimeSpan.FromSeconds(30));
        Assert.True(restarted.Step < info.Blocks, $"the run had trained all {info.Blocks} blocks before Redis was back; the test proves nothing");

        // At the end: the run's last steps, and the write of its last checkpoint, fall in the outage.
        var nearEnd = await WaitForAsync(trainer, s => s.Step >= info.Blocks - 8, TimeSpan.FromMinutes(2));
        Assert.True(nearEnd.LastCheckpoint?.EndsWith(StepName(info.Blocks)) != true, "the run had finished before the second stop; the test proves nothing");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s: step {nearEnd.Step} of {info.Blocks}; stopping Redis again ({signal})");
        // Kept down beyond the end until a write of the last checkpoint has failed for sure: a state write gives up after
        // 5 s (StackExchange.Redis' timeout), and the trainer may first wait as long for its evaluator's write.
        var end = await OutageAsync(trainer, kill, s => s.Step >= info.Blocks, TimeSpan.FromSeconds(12));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s: Redis back; step {end.Step} during the outage");

        // Nobody but the status polls calls the trainer: the run must go on by itself.
        var after = await WaitForAsync(trainer, s => s.Corpora.Single().TokensRead >= info.Tokens && s.Phase != "idle"
            && s.LastCheckpoint is { } c && c.EndsWith(StepName(info.Blocks), StringComparison.Ordinal), TimeSpan.FromMinutes(2));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s: step {after.Step}, {after.Corpora.Single().TokensRead} of {info.Tokens} tokens, checkpoint {Path.GetFileName(after.LastCheckpoint)}");
        foreach (var line in log.Containing("redis-restart")) output.WriteLine(line);

        Assert.Equal(BlockStore.Open(data, "english").TrainTokens, info.Tokens);
        Assert.Equal(info.Tokens, after.Corpora.Single().TokensRead);
        Assert.Equal(info.Blocks, after.Step);
        Assert.DoesNotContain("failed", after.Phase);

        // Reminders work again: with all work done, the next tick removes the keep-alive reminder.
        var reminders = cluster.Silos[0].SiloHost.Services.GetRequiredService<IReminderTable>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await ReadReminderAsync(reminders, trainer) is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the keep-alive reminder outlived the run's work");
            await Task.Delay(250);
        }

        // Every snapshot evaluated is gone, also those whose results were written only after Redis was back.
        var evaluator = cluster.Client.GetGrain<IEvaluatorGrain>("redis-restart");
        while ((await evaluator.GetReportAsync()).Pending > 0)
        {
            Assert.True(DateTime.UtcNow < deadline + TimeSpan.FromSeconds(30), "the evaluator did not finish the run's snapshots");
            await Task.Delay(250);
        }
        var report = await evaluator.GetReportAsync();
        output.WriteLine($"evaluated {report.Main.Count} main snapshots, {report.Skipped} passed over, {report.Failed} failed");
        Assert.Equal(0, report.Failed);
        // (A main-cadence snapshot the evaluator never took, its queue lost with a Redis kill, can stay: see docs/reliability.md.)
        var evaluated = report.Main.Select(m => Path.GetFileName(m.Snapshot.Path)!).ToHashSet();
        var left = Directory.GetFileSystemEntries(RunFolders.In(data, "redis-restart").Snapshots).Select(p => Path.GetFileName(p)!).ToList();
        output.WriteLine($"left in the snapshots folder: {(left.Count == 0 ? "nothing" : string.Join(", ", left))}");
        Assert.True(!left.Any(evaluated.Contains), $"evaluated snapshots left behind: {string.Join(", ", left.Where(evaluated.Contains))}");

        // What Redis holds is the run's true state: a new cluster on it sees the run finished at its last checkpoint
        // (a pointer written only in the old trainer's memory would make it train the end again, or show an older step).
        await cluster.DisposeAsync();
        cluster = await StartClusterAsync(silos: 1);
        var resumed = await WaitForAsync(cluster.Client.GetGrain<ITrainerGrain>("redis-restart"), _ => true, TimeSpan.FromSeconds(30));
        Assert.Equal(after.LastCheckpoint, resumed.LastCheckpoint);
        Assert.Equal(info.Blocks, resumed.Step);
        Assert.Equal(info.Tokens, resumed.Corpora.Single().TokensRead);
        Assert.False(resumed.ModelInMemory, "the run trains again after a restart: its state was not recorded as finished");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s: done; a new cluster sees step {resumed.Step}, checkpoint {Path.GetFileName(resumed.LastCheckpoint)}");
    }

    /// <summary>
    /// A stop can fall between Redis applying a state write and the silo reading its answer: the write is stored, but the
    /// silo saw it fail and still holds the ETag from before, so its next write looks like a conflict. Makes that happen
    /// to the trainer's state for sure, by giving the stored state another ETag.
    /// </summary>
    async Task LoseAnAnswerAsync()
    {
        await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var key = $"{serviceId}/state/trainer/redis-restart/run";
        Assert.True(await connection.GetDatabase().KeyExistsAsync(key), $"no trainer state under {key}");
        await connection.GetDatabase().HashSetAsync(key, "etag", "written-but-not-answered");
    }

    /// <summary>Stops redis-server, keeps it down for <see cref="Outage"/> and until the run's status (which must answer
    /// meanwhile: it is the grain's own memory and the evaluator's) satisfies <paramref name="until"/> and <paramref name="beyond"/>
    /// more, then starts it again on the same port with the same data. Returns the status that satisfied the condition.</summary>
    async Task<RunStatus> OutageAsync(ITrainerGrain trainer, bool kill, Func<RunStatus, bool> until, TimeSpan beyond)
    {
        await redis.StopAsync(kill);
        var down = Stopwatch.StartNew();
        var status = await WaitForAsync(trainer, until, TimeSpan.FromMinutes(1));
        await Task.Delay(beyond);
        if (Outage - down.Elapsed is { Ticks: > 0 } rest) await Task.Delay(rest);
        await redis.RestartAsync();
        return status;
    }

    /// <summary>The folder name of the checkpoint after <paramref name="step"/> steps (as CheckpointStore names it).</summary>
    static string StepName(long step) => $"step-{step:D8}";

    static async Task<ReminderEntry?> ReadReminderAsync(IReminderTable reminders, ITrainerGrain trainer)
    {
        try
        {
            return await reminders.ReadRow(trainer.GetGrainId(), "keep-alive");
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            // The reminder table's connection may still be coming back; ask again.
            return new ReminderEntry();
        }
    }

    async Task<InProcessTestCluster> StartClusterAsync(short silos)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ServiceId = serviceId;
        // Membership in Redis too, as `--cluster redis` keeps it: the restart must not make silos forget each other.
        // InProcessTestCluster keeps that switch internal and otherwise registers its own in-memory table last, over ours.
        typeof(InProcessTestClusterOptions).GetProperty("UseTestClusterMembership", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)!
            .SetValue(builder.Options, false);
        var redisOptions = StreamingSiloBuilderExtensions.ParseRedis(redis.ConnectionString, "test");
        builder.ConfigureClient(client => client.UseRedisClustering(o => o.ConfigurationOptions = redisOptions.Clone()));
        builder.ConfigureSiloHost((_, host) => host.Logging.AddProvider(log));
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseRedisClustering(o => o.ConfigurationOptions = redisOptions.Clone());
            silo.AddStreaming(o =>
            {
                RedisRun.Configure(o, data, redis.ConnectionString);
                // Main-cadence snapshots all along, so that evaluations also finish while Redis is down.
                o.EvaluateEvery = 10;
            });
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        });
        var built = builder.Build();
        await built.DeployAsync();
        return built;
    }

    Task<CorpusInfo> IngestAsync(InProcessTestCluster target) => RedisRun.IngestAsync(target, data, "redis-restart");

    /// <summary>Polls the run's status until it satisfies the condition; a call that fails or takes over 10 s is retried,
    /// a failed phase fails the test at once. On time-out, says where the run was and what the silos warned of.</summary>
    async Task<RunStatus> WaitForAsync(ITrainerGrain trainer, Func<RunStatus, bool> condition, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        string last = "no answer yet";
        while (true)
        {
            try
            {
                var status = await trainer.GetStatusAsync().WaitAsync(TimeSpan.FromSeconds(10));
                Assert.False(status.Phase.StartsWith("failed"), $"the run failed on {status.Silo}: {status.Phase}");
                if (condition(status)) return status;
                last = $"step {status.Step}, phase {status.Phase}, checkpoint {Path.GetFileName(status.LastCheckpoint)} on {status.Silo}";
            }
            catch (Exception e) when (e is OrleansException or TimeoutException or SiloUnavailableException)
            {
                last = e.GetType().Name + ": " + e.Message.Split('\n')[0];
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the run did not get there in {limit}; last: {last}\nthe silos' last warnings:\n{log.Tail(30)}");
            await Task.Delay(250);
        }
    }
}
