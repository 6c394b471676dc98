using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Streaming.Training.Data;

namespace Streaming.Integration.Tests;

/// <summary>
/// One real silo process for a test class, on its own ports and data folder, with a good corpus already
/// ingested through the CLI on <see cref="Run"/>: the corpus that bad ingests must not harm.
/// </summary>
public sealed partial class IngestSilo : IAsyncLifetime
{
    public const string Run = "ingest-tests";
    public const string GoodName = "english";

    readonly ConcurrentQueue<string> log = new();
    Process? silo;

    public string Data { get; } = Directory.CreateTempSubdirectory("streaming-ingest-").FullName;
    public int Gateway { get; } = Executables.FreePort();
    public int SiloPort { get; } = Executables.FreePort();
    public long GoodTokens { get; private set; }
    public Process Process => silo ?? throw new InvalidOperationException("the silo is not started");

    public async Task InitializeAsync()
    {
        silo = Executables.Start(Executables.Silo, $"--data {Data} --http-port 0 --silo-port {SiloPort} --gateway-port {Gateway} --device cpu");
        // Drain both pipes: a silo that fills a pipe nobody reads would block on its next log line.
        silo.OutputDataReceived += (_, e) => Keep(e.Data);
        silo.ErrorDataReceived += (_, e) => Keep(e.Data);
        silo.BeginOutputReadLine();
        silo.BeginErrorReadLine();

        var good = Path.Combine(Data, "in", $"{GoodName}.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(good)!);
        await File.WriteAllLinesAsync(good, (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Take(10));
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        (int Code, string Out, string Err) ingest;
        do ingest = Client($"ingest --run {Run} {good}");   // the client itself waits 30 s for a starting silo
        while (ingest.Code != 0 && DateTime.UtcNow < deadline && !silo.HasExited);
        if (ingest.Code != 0) throw new InvalidOperationException($"the good corpus was not ingested: {ingest.Err}\nsilo log:\n{Log}");
        GoodTokens = Tokens(ingest.Out);
    }

    public Task DisposeAsync()
    {
        if (silo is { HasExited: false }) silo.Kill(entireProcessTree: true);
        silo?.WaitForExit(10_000);
        silo?.Dispose();
        Directory.Delete(Data, recursive: true);
        return Task.CompletedTask;
    }

    public string Log => string.Join('\n', log);

    /// <summary>Runs `streaming ARGS --gateway PORT` (for at most <paramref name="timeout"/>, a minute by default).</summary>
    public (int Code, string Out, string Err) Client(string arguments, TimeSpan? timeout = null) =>
        Executables.Run(Executables.Client, $"{arguments} --gateway {Gateway}", timeout);

    /// <summary>The run as `streaming status --run R --json` reports it.</summary>
    public JsonElement Status()
    {
        var status = Client($"status --run {Run} --json");
        Assert.True(status.Code == 0, $"status failed: {status.Err}");
        return JsonDocument.Parse(status.Out).RootElement.GetProperty("runs")[0].Clone();
    }

    /// <summary>Nothing already trained is lost: the silo is up, the run has not failed, the good corpus is whole and its count never went back.</summary>
    public void AssertGoodCorpusIntact()
    {
        Assert.False(Process.HasExited, $"the silo exited; its log:\n{Log}");
        var run = Status();
        Assert.DoesNotContain("failed", run.GetProperty("phase").GetString());
        var good = run.GetProperty("corpora").EnumerateArray().Single(c => c.GetProperty("name").GetString() == GoodName);
        Assert.Equal(GoodTokens, good.GetProperty("tokensTotal").GetInt64());
        var trained = good.GetProperty("tokensRead").GetInt64();
        Assert.InRange(trained, lastTrained, GoodTokens);
        lastTrained = trained;
    }

    long lastTrained;

    /// <summary>
    /// Waits (at most 3 minutes) until every run on the silo has trained every corpus to its last token and
    /// evaluated it after its task, so no trainer is busy (another test's run, e.g. one with a 100k-token
    /// vocabulary, moves the silo's memory far more than anything measured here); returns <see cref="Run"/>.
    /// </summary>
    public async Task<JsonElement> WaitUntilTrained()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (true)
        {
            var status = Client("status --json");
            Assert.True(status.Code == 0, $"status failed: {status.Err}");
            var runs = JsonDocument.Parse(status.Out).RootElement.GetProperty("runs").EnumerateArray().Select(r => r.Clone()).ToList();
            Assert.All(runs, r => Assert.DoesNotContain("failed", r.GetProperty("phase").GetString()));
            if (runs.All(Trained)) return runs.Single(r => r.GetProperty("run").GetString() == Run);
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the silo's runs not trained in 3 minutes: {status.Out}");
            await Task.Delay(1000);
        }
    }

    static bool Trained(JsonElement run)
    {
        var corpora = run.GetProperty("corpora");
        return corpora.EnumerateArray().All(c => c.GetProperty("tokensRead").GetInt64() == c.GetProperty("tokensTotal").GetInt64())
            && run.GetProperty("evaluations").GetArrayLength() >= corpora.GetArrayLength();
    }

    /// <summary>
    /// Starts a new peak-memory measurement: resets the silo's peak resident memory to what it holds now
    /// (Linux's clear_refs "5"), so a peak some earlier test's run reached cannot hide this one; returns that.
    /// </summary>
    public long ResetPeakMemory()
    {
        File.WriteAllText($"/proc/{Process.Id}/clear_refs", "5");
        return Kilobytes("VmRSS") * 1024;
    }

    /// <summary>Peak resident memory of the silo process since the last <see cref="ResetPeakMemory"/> (VmHWM), in bytes.</summary>
    public long PeakMemory() => Kilobytes("VmHWM") * 1024;

    long Kilobytes(string field)
    {
        var line = File.ReadLines($"/proc/{Process.Id}/status").Single(l => l.StartsWith(field + ":"));
        return long.Parse(Digits().Match(line).Value);
    }

    /// <summary>The token count in a summary line: "queued X on run R: 26,364 tokens in ...".</summary>
    public static long Tokens(string summary)
    {
        var match = TokenCount().Match(summary);
        Assert.True(match.Success, $"no token count in '{summary}'");
        return long.Parse(Regex.Replace(match.Groups[1].Value, @"\D", ""));
    }

    /// <summary>Writes about <paramref name="bytes"/> of blank-line-separated paragraphs: a big, valid .txt corpus.</summary>
    public static string WriteParagraphs(string path, long bytes)
    {
        var words = string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog ", 80));
        using var file = new StreamWriter(path, false, new System.Text.UTF8Encoding(false));
        for (var i = 0; file.BaseStream.Length < bytes; i++) file.Write($"Paragraph {i}: {words}\n\n");
        return path;
    }

    void Keep(string? line)
    {
        if (line is null) return;
        log.Enqueue(line);
        while (log.Count > 200) log.TryDequeue(out _);
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    [GeneratedRegex(@": ([\d,.\u00a0\u202f ]+) tokens? in ")]
    private static partial Regex TokenCount();
}
