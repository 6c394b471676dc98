using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Streaming.Training.Checkpoints;
using Streaming.Training.Data;

namespace Streaming.Integration.Tests;

/// <summary>
/// A full data volume, for real: a small tmpfs mounted as the silo's data folder (the tests run as root, as CI does;
/// a test that cannot mount one fails). A checkpoint that does not fit pauses training, visibly, keeps the previous
/// checkpoint intact and leaves no half-written folder; training goes on by itself once space is freed and trains every
/// block once. An ingest onto the full volume is one line and leaves nothing of the corpus.
/// </summary>
public sealed class DiskFullTests : IAsyncLifetime
{
    const string Run = "disk";
    readonly string root = Directory.CreateTempSubdirectory("streaming-diskfull-").FullName;
    readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(30) };
    bool mounted;

    string Data => Path.Combine(root, "data");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Data);
        var (code, error) = Command("mount", $"-t tmpfs -o size=24m tmpfs {Data}");
        Assert.True(code == 0, $"cannot mount a tmpfs at {Data} (the test needs root, as in CI): {error}");
        mounted = true;
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        http.Dispose();
        // Lazily if something still holds a file there: the mount goes once it is let go.
        if (mounted && Command("umount", Data).Code != 0) Command("umount", $"-l {Data}");
        Directory.Delete(root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ACheckpointOnAFullVolumePausesTrainingUntilSpaceIsFreedAndEveryBlockIsTrainedOnce()
    {
        var english = File.ReadLines(SampleCorpora.File("english")).ToList();
        var sources = new[] { ("first", 0, 20), ("second", 20, 40), ("third", 60, 60) }.Select(c =>
        {
            var path = Path.Combine(root, $"{c.Item1}.jsonl");
            File.WriteAllLines(path, english.Skip(c.Item2).Take(c.Item3));
            return (Name: c.Item1, Path: path);
        }).ToList();
        await using var silo = new SiloProcess(Data, "--checkpoint-every 5 --min-free-mb 0");
        await silo.StartAsync();
        Assert.Equal(0, silo.Client($"run create {Run} --layers 2 --width 64 --heads 2 --context 64").Code);
        Ingest(silo, sources[0].Path, expectedCode: 0);
        var previous = (string)(await silo.WaitUntilSettledAsync(Run))["lastCheckpoint"]!;

        // Room for the second corpus, not for a checkpoint.
        var checkpointBytes = Directory.EnumerateFiles(previous, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Fill("filler-1", leave: checkpointBytes / 2);
        Ingest(silo, sources[1].Path, expectedCode: 0);
        Assert.True(Free() < checkpointBytes, $"{Free()} bytes free after the ingest, room for a checkpoint of {checkpointBytes}: the test proves nothing");

        var paused = await WaitForPhaseAsync(silo, phase => phase.StartsWith("paused"));
        Assert.Matches(@"^paused: data volume full \([\d.,]+ MB free, needs ~[\d.,]+ MB\); training resumes when space is freed$", paused);
        var step = (long)silo.Status(Run)["step"]!;
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(step, (long)silo.Status(Run)["step"]!);
        var (readyCode, ready) = await GetAsync(silo, "/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyCode);
        Assert.Contains($"data volume: run {Run} {paused}", ready);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync(silo, "/health")).Code);
        Assert.Equal((HttpStatusCode.OK, "ok"), await GetAsync(silo, "/health/live"));
        Assert.Matches($"(?m)^streaming_run_paused\\{{[^}}]*run=\"{Run}\"[^}}]*\\}} 1( |$)", await silo.MetricsAsync(Run));
        // The failed save left nothing half-written, and the checkpoint before it is whole.
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(Data, "runs", Run), "*.tmp-*", SearchOption.AllDirectories));
        Checkpoint.Verify(previous);

        // An ingest onto the full volume: one line, exit 2, nothing of the corpus left in the corpora folder.
        Fill("filler-2", leave: 64 << 10);
        var refused = Ingest(silo, sources[2].Path, expectedCode: 2);
        Assert.Matches(@"^error: \S+third\.jsonl was not stored: data volume full \([\d.,]+ MB free\) on the silo; free space or grow the volume, then ingest again\n$", refused);
        Assert.Equal(["first", "second"], Directory.GetDirectories(BlockStore.CorporaDirectory(Data)).Select(Path.GetFileName).Order());

        File.Delete(Path.Combine(Data, "filler-1"));
        File.Delete(Path.Combine(Data, "filler-2"));
        Ingest(silo, sources[2].Path, expectedCode: 0);
        var after = await silo.WaitUntilSettledAsync(Run);
        foreach (var corpus in after["corpora"]!.AsArray())
        {
            var stored = BlockStore.Open(Data, (string)corpus!["name"]!);
            Assert.Equal(stored.TrainTokens, (long)corpus["tokensTotal"]!);
            Assert.Equal(stored.TrainTokens, (long)corpus["tokensRead"]!);
        }
        // Every block was one optimizer step: the paused steps were not trained again.
        var blocks = sources.Sum(s => BlockStore.Open(Data, s.Name).TrainBlockCount);
        Assert.Equal(blocks, await silo.StepsAsync(Run));
        Assert.DoesNotContain("paused", (string?)after["phase"]);
        Assert.Matches($"(?m)^streaming_run_paused\\{{[^}}]*run=\"{Run}\"[^}}]*\\}} 0( |$)", await silo.MetricsAsync(Run));
        Assert.Equal((HttpStatusCode.OK, "ok"), await GetAsync(silo, "/health/ready"));
        Checkpoint.Verify((string)after["lastCheckpoint"]!);
    }

    static string Ingest(SiloProcess silo, string source, int expectedCode)
    {
        var (code, _, error) = silo.Client($"ingest --run {Run} --on-silo {source}");
        Assert.True(code == expectedCode, $"ingest of {source} exited {code}, not {expectedCode}: {error}\nsilo log:\n{silo.Log}");
        return error;
    }

    async Task<string> WaitForPhaseAsync(SiloProcess silo, Func<string, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var phase = (string?)silo.Status(Run)["phase"] ?? "";
            Assert.DoesNotContain("failed", phase);
            if (condition(phase)) return phase;
            Assert.True(DateTime.UtcNow < deadline, $"the run is still {phase} after 2 minutes\nsilo log:\n{silo.Log}");
            await Task.Delay(500);
        }
    }

    long Free() => new DriveInfo(Data).AvailableFreeSpace;

    /// <summary>Writes a file on the volume that leaves <paramref name="leave"/> bytes free.</summary>
    void Fill(string name, long leave)
    {
        var size = Free() - leave;
        Assert.True(size > 0, $"only {Free()} bytes free, fewer than the {leave} to leave");
        using var file = new FileStream(Path.Combine(Data, name), FileMode.CreateNew);
        var chunk = new byte[1 << 20];
        for (var written = 0L; written < size; written += chunk.Length) file.Write(chunk, 0, (int)Math.Min(chunk.Length, size - written));
    }

    async Task<(HttpStatusCode Code, string Body)> GetAsync(SiloProcess silo, string path)
    {
        using var response = await http.GetAsync($"http://127.0.0.1:{silo.HttpPort}{path}");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    static (int Code, string Error) Command(string program, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, error.Trim());
    }
}
