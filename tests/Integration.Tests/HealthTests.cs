using System.Net;
using Streaming.Training.Data;

namespace Streaming.Integration.Tests;

/// <summary>The silo's health endpoints tell the truth: live while it answers, ready while it can work, and /health
/// degraded, one line each, when a run has failed.</summary>
public sealed class HealthTests : IAsyncLifetime
{
    readonly string data = Directory.CreateTempSubdirectory("streaming-health-").FullName;
    readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        http.Dispose();
        Directory.Delete(data, recursive: true);
        return Task.CompletedTask;
    }

    async Task<(HttpStatusCode Code, string Body)> Get(SiloProcess silo, string path)
    {
        using var response = await http.GetAsync($"http://127.0.0.1:{silo.HttpPort}{path}");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AFailedRunMakesHealthDegradedButNotUnreadyOrDead()
    {
        await using var silo = new SiloProcess(Path.Combine(data, "silo"));
        await silo.StartAsync();
        foreach (var path in new[] { "/health/live", "/health/ready", "/health" })
            Assert.Equal((HttpStatusCode.OK, "ok"), await Get(silo, path));

        var source = Path.Combine(data, "english.jsonl");
        await File.WriteAllLinesAsync(source, File.ReadLines(SampleCorpora.File("english")).Take(20));
        Assert.Equal(0, silo.Client($"ingest --run first {source}").Code);
        await silo.WaitUntilSettledAsync("first");
        // The stored blocks are damaged after the first run trained them (a token becomes 65535): their checksum no longer matches.
        var train = Path.Combine(BlockStore.CorpusDirectory(silo.Data, "english"), CorpusIngestor.TrainFile);
        await using (var stored = new FileStream(train, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            stored.Position = 2 * 10;
            stored.Write([0xFF, 0xFF]);
        }
        // In file order, so that the damaged block is the first one trained.
        Assert.Equal(0, silo.Client("run create second --order file").Code);
        Assert.Equal(0, silo.Client($"ingest --run second {source}").Code);   // the stored corpus, attached as it is

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!((string?)silo.Status("second")["phase"] ?? "").StartsWith("failed") && DateTime.UtcNow < deadline) await Task.Delay(500);
        var (code, body) = await Get(silo, "/health");
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.StartsWith("degraded\nruns: run second failed: corpus english: train.bin is damaged: bytes 0-", body);
        Assert.DoesNotContain("\n", body.TrimEnd()["degraded\nruns: ".Length..]);
        Assert.Equal(0, (long)silo.Status("second")["step"]!);   // nothing trained on it
        Assert.Equal((HttpStatusCode.OK, "ok"), await Get(silo, "/health/ready"));
        Assert.Equal((HttpStatusCode.OK, "ok"), await Get(silo, "/health/live"));
        Assert.Matches("(?m)^streaming_run_failed\\{[^}]*run=\"second\"[^}]*\\} 1( |$)", await silo.MetricsAsync("second"));
    }

    [Fact]
    public async Task AVolumeBelowTheFloorMakesTheSiloUnreadyButLive()
    {
        await using var silo = new SiloProcess(Path.Combine(data, "silo"), "--min-free-mb 2000000000");
        await silo.StartAsync();
        var (code, body) = await Get(silo, "/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Matches(@"^unhealthy\ndata volume: [\d,]+ MiB free under .+, below 2,000,000,000 MiB: checkpoints may not fit", body);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Get(silo, "/health")).Code);
        Assert.Equal((HttpStatusCode.OK, "ok"), await Get(silo, "/health/live"));
    }
}
