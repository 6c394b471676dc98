using System.Diagnostics;
using System.Text.Json;
using Streaming.Training.Data;

namespace Streaming.Integration.Tests;

/// <summary>
/// Exactly once across a crash: the silo process is killed with SIGKILL in the middle of training,
/// started again on the same data folder, and the run finishes with tokens trained equal to the tokens
/// in the corpus' train split, as `streaming status --json` reports them.
/// </summary>
public sealed class CrashRecoveryTests : IDisposable
{
    readonly string data = Directory.CreateTempSubdirectory("streaming-crash-").FullName;
    readonly int gateway = Executables.FreePort(), siloPort = Executables.FreePort();
    Process? silo;

    [Fact]
    public async Task KilledSiloResumesAndTrainsEveryTokenExactlyOnce()
    {
        var corpus = Path.Combine(data, "english.jsonl");
        await File.WriteAllLinesAsync(corpus, (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Take(40));
        StartSilo();
        var ingest = Executables.Run(Executables.Client, $"ingest --run crash --gateway {gateway} {corpus}");
        Assert.True(ingest.Code == 0, ingest.Err);

        var before = await Executables.WaitForRun(gateway, "crash", r => r.GetProperty("step").GetInt64() >= 12 && r.GetProperty("lastCheckpoint").ValueKind == JsonValueKind.String);
        silo!.Kill(entireProcessTree: true);   // SIGKILL: no shutdown, no flush
        await silo.WaitForExitAsync();
        Assert.True(before.GetProperty("step").GetInt64() < 30, "training finished before the kill; the test proves nothing");

        StartSilo();
        var after = await Executables.WaitForRun(gateway, "crash", r => Corpus(r).GetProperty("tokensRead").GetInt64() >= Corpus(r).GetProperty("tokensTotal").GetInt64()
            && r.GetProperty("phase").GetString() != "idle");
        var trained = Corpus(after).GetProperty("tokensRead").GetInt64();
        var total = Corpus(after).GetProperty("tokensTotal").GetInt64();
        Assert.Equal(BlockStore.Open(data, "english").TrainTokens, total);
        Assert.Equal(total, trained);
    }

    static JsonElement Corpus(JsonElement run) => run.GetProperty("corpora")[0];

    void StartSilo() =>
        silo = Executables.Start(Executables.Silo,
            $"--data {data} --http-port 0 --silo-port {siloPort} --gateway-port {gateway} --device cpu --checkpoint-every 5");

    public void Dispose()
    {
        if (silo is { HasExited: false }) silo.Kill(entireProcessTree: true);
        silo?.Dispose();
        Directory.Delete(data, recursive: true);
    }
}
