using System.Text.Json.Nodes;
using Streaming.Training.Checkpoints;
using Streaming.Training.Data;
using Xunit.Abstractions;

namespace Streaming.Integration.Tests;

/// <summary>
/// The fault suite: the silo process is killed with SIGKILL at random moments while a run trains two corpora (task
/// ends, paper-protocol anneal branches, checkpoints every few steps, evaluations at a cadence), and started again
/// each time. At the end the run must equal a run trained without interruption on the same silo with the same
/// settings: token counts exactly, and weights and optimizer moments bit for bit. CI runs a few kills;
/// <c>STREAMING_FAULT_KILLS=50</c> (bench/faults.sh) runs the long version. <c>STREAMING_FAULT_SEED</c> picks the moments.
/// </summary>
public sealed class FaultSuiteTests(ITestOutputHelper output) : IAsyncLifetime
{
    static int Kills => int.TryParse(Environment.GetEnvironmentVariable("STREAMING_FAULT_KILLS"), out var n) ? n : 3;
    static int Seed => int.TryParse(Environment.GetEnvironmentVariable("STREAMING_FAULT_SEED"), out var s) ? s : 20261202;

    readonly string data = Directory.CreateTempSubdirectory("streaming-faults-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(data, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task KilledAtRandomMomentsARunEndsExactlyAsAnUninterruptedOne()
    {
        // Long enough to be killed that often: each kill costs a silo start and the steps since the last checkpoint.
        var documents = Math.Max(25, Kills);
        var corpora = new[] { ("english", documents), ("german", documents) }.Select(c =>
        {
            var path = Path.Combine(data, $"{c.Item1}.jsonl");
            File.WriteAllLines(path, File.ReadLines(SampleCorpora.File(c.Item1)).Take(c.Item2));
            return path;
        }).ToList();
        await using var silo = new SiloProcess(Path.Combine(data, "silo"), "--checkpoint-every 3 --evaluate-every 4");
        await silo.StartAsync();

        // The reference: the same corpora, trained without interruption.
        foreach (var corpus in corpora) Assert.Equal(0, silo.Client($"ingest --run reference {corpus}").Code);
        var settling = TimeSpan.FromMinutes(3 + documents / 10);   // the long version trains more
        var reference = await silo.WaitUntilSettledAsync("reference", settling);

        foreach (var corpus in corpora) Assert.Equal(0, silo.Client($"ingest --run faulted {corpus}").Code);
        var random = new Random(Seed);
        var moments = new List<string>();
        for (var kill = 0; kill < Kills; kill++)
        {
            // A random moment once the trainer is training again: anywhere in a step, a checkpoint, a branch or an evaluation.
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            long? steps;
            while ((steps = await silo.StepsAsync("faulted")) is null && DateTime.UtcNow < deadline) await Task.Delay(50);
            await Task.Delay(random.Next(200, 3000));
            var before = await silo.StepsAsync("faulted");
            if (silo.Status("faulted") is var status && Settled(status)) break;   // trained to the end before this kill
            await silo.KillAsync();
            moments.Add($"{before}");
            await silo.StartAsync();
        }
        var faulted = await silo.WaitUntilSettledAsync("faulted", settling);
        output.WriteLine($"seed {Seed}: {moments.Count} kills, at optimizer steps {string.Join(", ", moments)}");
        Assert.True(moments.Count >= Math.Min(Kills, 2), $"the run finished after {moments.Count} kills: the suite proved little");

        // Counts exact: every token of both corpora read once, split alike between the main trajectory and anneal branches.
        Assert.Equal(Counts(reference), Counts(faulted));
        foreach (var corpus in faulted["corpora"]!.AsArray())
            Assert.Equal(BlockStore.Open(silo.Data, (string)corpus!["name"]!).TrainTokens, (long)corpus["tokensRead"]!);
        // The same weights and optimizer moments, bit for bit (the checkpoints' hashes), and so the same losses.
        Assert.Equal((long)reference["step"]!, (long)faulted["step"]!);
        Assert.Equal(Hashes(reference), Hashes(faulted));
        Assert.Equal(reference["evaluations"]!.ToJsonString(), faulted["evaluations"]!.ToJsonString());
    }

    static bool Settled(JsonObject status) =>
        status["corpora"]!.AsArray().Count == 2 && status["corpora"]!.AsArray().All(c => (long)c!["tokensRead"]! == (long)c["tokensTotal"]!)
        && status["pendingAnnealSteps"] is null && status["branch"] is null;

    static string Counts(JsonObject status) => string.Join("; ", status["corpora"]!.AsArray().Select(c =>
        $"{c!["name"]}: {c["tokensTrained"]} main, {c["tokensAnnealOnly"]} anneal-only of {c["tokensTotal"]}"));

    static (string Model, string Optimizer) Hashes(JsonObject status)
    {
        var files = Checkpoint.ReadManifest((string)status["lastCheckpoint"]!).Files;
        return (files[Checkpoint.ModelFile].Sha256, files[Checkpoint.OptimizerFile].Sha256);
    }
}
