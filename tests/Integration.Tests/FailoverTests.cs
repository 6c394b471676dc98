using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;
using Streaming.Grains;
using Streaming.Integration.Tests.Persistence;
using Streaming.Training.Data;
using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Schedules;

namespace Streaming.Integration.Tests;

/// <summary>
/// Failover. Silos share Redis (grain state, reminders) and one data folder, as a clustered deployment with a
/// shared volume does. The trainer's silo is killed mid-run and the trainer comes back on the other silo
/// without any call from the test; resuming from a checkpoint keeps every token trained exactly once.
/// </summary>
public sealed class FailoverTests : IAsyncLifetime
{
    readonly string data = Directory.CreateTempSubdirectory("streaming-failover-").FullName;
    readonly string serviceId = "failover-" + Guid.NewGuid().ToString("N");
    readonly List<InProcessTestCluster> clusters = [];
    RedisServer redis = null!;

    public async Task InitializeAsync() => redis = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var cluster in clusters) await cluster.DisposeAsync();
        await redis.DisposeAsync();
        Directory.Delete(data, recursive: true);
    }

    [Fact]
    public async Task KilledTrainerSiloFailsOverAndEveryTokenIsTrainedOnce()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var info = await IngestAsync(cluster);
        var trainer = cluster.Client.GetGrain<ITrainerGrain>("failover");

        var before = await WaitForAsync(trainer, s => s.Step >= 10 && s.LastCheckpoint is not null, TimeSpan.FromMinutes(1));
        var victim = cluster.Silos.Single(s => s.SiloAddress.ToString() == before.Silo);
        var survivor = cluster.Silos.Single(s => s != victim);
        var reminders = survivor.SiloHost.Services.GetRequiredService<IReminderTable>();
        Assert.NotNull(await reminders.ReadRow(trainer.GetGrainId(), "keep-alive"));

        await cluster.KillSiloAsync(victim);
        Assert.True(before.Step < info.Blocks, "training finished before the kill; the test proves nothing");

        // No call to the trainer until it lives on the survivor: what brings it back is the cluster, not the test.
        await WaitForActivationAsync(cluster, trainer, survivor.SiloAddress, TimeSpan.FromMinutes(1));
        var after = await WaitForAsync(trainer, s => s.Corpora.Single().TokensRead >= info.Tokens && s.Phase != "idle", TimeSpan.FromMinutes(1));

        Assert.Equal(survivor.SiloAddress.ToString(), after.Silo);
        Assert.Equal(BlockStore.Open(data, "english").TrainTokens, info.Tokens);
        Assert.Equal(info.Tokens, after.Corpora.Single().TokensRead);
        Assert.Equal(info.Blocks, after.Step);

        // With all work done, the next tick removes the keep-alive reminder.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await reminders.ReadRow(trainer.GetGrainId(), "keep-alive") is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the keep-alive reminder outlived the run's work");
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// The loop keeps only its newest two checkpoints and can write two before the grain persists one, so a crash
    /// can leave the state pointing at a deleted checkpoint. The run must then resume from the newest one on disk.
    /// </summary>
    [Fact]
    public async Task ResumesFromTheNewestCheckpointWhenTheOneInTheStateIsGone()
    {
        var info = await TrainPartwayAndStopAsync();

        // Whichever checkpoint the state names, make it dangle: keep only the newest, under a name the loop never wrote.
        var folder = Path.Combine(data, "runs", "failover", "checkpoints");
        var checkpoints = Directory.GetDirectories(folder, "step-*").Order(StringComparer.Ordinal).ToList();
        Directory.Move(checkpoints[^1], Path.Combine(folder, "step-99999999"));
        foreach (var older in checkpoints.SkipLast(1)) Directory.Delete(older, recursive: true);

        // The silo's start wakes every known run (RunResumer).
        var after = await ResumeToTheEndAsync(info);
        Assert.Equal(info.Tokens, after.Corpora.Single().TokensRead);
        Assert.Equal(info.Blocks, after.Step);
    }

    [Fact]
    public async Task ResumesFromThePreviousCheckpointWhenTheNewestIsDamaged()
    {
        var info = await TrainPartwayAndStopAsync();

        // The newest checkpoint (the one a stopped silo records last) gets a flipped byte in its weights; one older stays.
        var folder = Path.Combine(data, "runs", "failover", "checkpoints");
        var checkpoints = Directory.GetDirectories(folder, "step-*").Order(StringComparer.Ordinal).ToList();
        Assert.True(checkpoints.Count >= 2, $"{checkpoints.Count} checkpoints kept");
        await using (var weights = new FileStream(Path.Combine(checkpoints[^1], "model.tensors"), FileMode.Open, FileAccess.ReadWrite))
        {
            weights.Position = weights.Length / 2;
            var value = weights.ReadByte();
            weights.Position--;
            weights.WriteByte((byte)(value ^ 0xFF));
        }

        var after = await ResumeToTheEndAsync(info);
        Assert.DoesNotContain("failed", after.Phase);
        Assert.Equal(info.Tokens, after.Corpora.Single().TokensRead);
        Assert.Equal(info.Blocks, after.Step);
    }

    /// <summary>Trains the run on a one-silo cluster until it has a checkpoint and at least 10 steps, then stops the silo.</summary>
    async Task<CorpusInfo> TrainPartwayAndStopAsync()
    {
        var first = await StartClusterAsync(silos: 1);
        var info = await IngestAsync(first);
        var before = await WaitForAsync(first.Client.GetGrain<ITrainerGrain>("failover"), s => s.Step >= 10 && s.LastCheckpoint is not null, TimeSpan.FromMinutes(1));
        await first.StopAllSilosAsync();
        Assert.True(before.Step < info.Blocks, "training finished before the stop; the test proves nothing");
        return info;
    }

    /// <summary>Starts a new one-silo cluster (its start wakes every known run) and waits until the run has read every token.</summary>
    async Task<RunStatus> ResumeToTheEndAsync(CorpusInfo info)
    {
        var second = await StartClusterAsync(silos: 1);
        return await WaitForAsync(second.Client.GetGrain<ITrainerGrain>("failover"),
            s => s.Corpora.Single().TokensRead >= info.Tokens && s.Phase != "idle", TimeSpan.FromMinutes(1));
    }

    /// <summary>
    /// The same with the silo executable as deployed: two processes with `--cluster redis`, one data folder. The
    /// trainer's process gets SIGKILL; the other one must take the run over with nobody calling it (new checkpoints
    /// appear), then finish it with every token trained once.
    /// </summary>
    [Fact]
    public async Task KilledSiloProcessFailsOverThroughRedis()
    {
        var corpus = Path.Combine(data, "english.jsonl");
        await File.WriteAllLinesAsync(corpus, (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Take(40));
        var ports = Enumerable.Range(0, 2).Select(_ => (Silo: Executables.FreePort(), Gateway: Executables.FreePort())).ToList();
        var silos = ports.Select(p => Executables.Start(Executables.Silo, $"--cluster redis --redis {redis.ConnectionString} " +
            $"--advertise-ip 127.0.0.1 --silo-port {p.Silo} --gateway-port {p.Gateway} --http-port 0 --data {data} --device cpu --checkpoint-every 5")).ToList();
        try
        {
            await RetryAsync(() => Executables.Run(Executables.Client, $"ingest --run failover --gateway {ports[0].Gateway} {corpus}"), TimeSpan.FromMinutes(1));
            var before = await StatusAsync(ports[1].Gateway, r => r.GetProperty("step").GetInt64() >= 10 && r.GetProperty("lastCheckpoint").ValueKind == JsonValueKind.String);
            var victim = ports.FindIndex(p => before.GetProperty("silo").GetString()!.Contains($":{p.Silo}:"));
            Assert.InRange(victim, 0, 1);
            var checkpoints = Path.Combine(data, "runs", "failover", "checkpoints");
            silos[victim].Kill(entireProcessTree: true);   // SIGKILL: no deactivation, no flush
            await silos[victim].WaitForExitAsync();
            var lastBefore = Newest(checkpoints);
            var total = Corpus(before).GetProperty("tokensTotal").GetInt64();
            Assert.True(Corpus(before).GetProperty("tokensRead").GetInt64() < total, "training finished before the kill; the test proves nothing");

            // Nobody calls the trainer: only the cluster (its reminder) can bring it back.
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (string.CompareOrdinal(Newest(checkpoints), lastBefore) <= 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"no checkpoint after {lastBefore} within 3 minutes of the kill");
                await Task.Delay(1000);
            }

            var survivor = 1 - victim;
            var after = await StatusAsync(ports[survivor].Gateway, r => Corpus(r).GetProperty("tokensRead").GetInt64() >= total && r.GetProperty("phase").GetString() != "idle");
            Assert.Contains($":{ports[survivor].Silo}:", after.GetProperty("silo").GetString());
            Assert.Equal(BlockStore.Open(data, "english").TrainTokens, total);
            Assert.Equal(total, Corpus(after).GetProperty("tokensRead").GetInt64());
        }
        finally
        {
            foreach (var silo in silos)
            {
                if (!silo.HasExited) silo.Kill(entireProcessTree: true);
                silo.Dispose();
            }
        }
    }

    static JsonElement Corpus(JsonElement run) => run.GetProperty("corpora")[0];

    /// <summary>The newest checkpoint folder's name (step-N, zero-padded), or "" if none.</summary>
    static string Newest(string folder) =>
        Directory.Exists(folder) ? Directory.GetDirectories(folder, "step-*").Select(Path.GetFileName).Where(n => !n!.Contains('.')).Max() ?? "" : "";

    /// <summary>Polls `streaming status --run failover --json` on a gateway until the run satisfies the condition.</summary>
    static async Task<JsonElement> StatusAsync(int gateway, Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            var status = Executables.Run(Executables.Client, $"status --run failover --json --gateway {gateway}");
            last = status.Code == 0 ? status.Out : status.Err;
            if (status.Code == 0)
            {
                var run = JsonDocument.Parse(status.Out).RootElement.GetProperty("runs")[0];
                Assert.DoesNotContain("failed", run.GetProperty("phase").GetString());
                if (condition(run)) return run.Clone();
            }
            await Task.Delay(1000);
        }
        throw new TimeoutException($"the run did not get there in 3 minutes; last status: {last}");
    }

    /// <summary>Runs a client command until it succeeds (the silos take a while to start).</summary>
    static async Task RetryAsync(Func<(int Code, string Out, string Err)> command, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var (code, _, err) = command();
            if (code == 0) return;
            Assert.True(DateTime.UtcNow < deadline, $"still failing after {limit}: {err}");
            await Task.Delay(1000);
        }
    }

    async Task<InProcessTestCluster> StartClusterAsync(int silos)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddStreaming(o => RedisRun.Configure(o, data, redis.ConnectionString));
            // Seconds instead of minutes, so that the test sees a failover within its time.
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
            });
        });
        var cluster = builder.Build();
        clusters.Add(cluster);
        await cluster.DeployAsync();
        return cluster;
    }

    Task<CorpusInfo> IngestAsync(InProcessTestCluster target) => RedisRun.IngestAsync(target, data, "failover");

    /// <summary>Waits until the management grain sees an activation of the grain on the silo, without calling the grain.</summary>
    static async Task WaitForActivationAsync(InProcessTestCluster cluster, ITrainerGrain grain, SiloAddress silo, TimeSpan limit)
    {
        var management = cluster.Client.GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            try
            {
                var active = await management.GetDetailedGrainStatistics(hostsIds: [silo]).WaitAsync(TimeSpan.FromSeconds(10));
                if (active.Any(a => a.GrainId == grain.GetGrainId())) return;
            }
            catch (Exception e) when (e is OrleansException or TimeoutException or SiloUnavailableException)
            {
                // The client may still route through the dead silo's gateway for a moment.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the trainer did not come back on {silo} within {limit}");
            await Task.Delay(250);
        }
    }

    /// <summary>Polls the run's status until it satisfies the condition; calls fail for a while after a kill, so they are retried.</summary>
    static async Task<RunStatus> WaitForAsync(ITrainerGrain trainer, Func<RunStatus, bool> condition, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        string last = "no answer yet";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var status = await trainer.GetStatusAsync().WaitAsync(TimeSpan.FromSeconds(10));
                Assert.False(status.Phase.StartsWith("failed"), $"the run failed on {status.Silo}: {status.Phase}");
                if (condition(status)) return status;
                last = $"step {status.Step}, phase {status.Phase} on {status.Silo}";
            }
            catch (Exception e) when (e is OrleansException or TimeoutException or SiloUnavailableException)
            {
                last = e.GetType().Name + ": " + e.Message.Split('\n')[0];
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"the run did not get there in {limit}; last: {last}");
    }
}
