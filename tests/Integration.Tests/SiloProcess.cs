using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Streaming.Integration.Tests;

/// <summary>
/// The silo executable on its own ports and a data folder, started, stopped as an operator stops it (SIGTERM)
/// and started again on the same data; with what a user sees of a run (status, eval, metrics) for comparing
/// before and after. Silo and client hold <paramref name="credentials"/> when given, else the test run's default credential
/// (<see cref="Executables.ConfigHome"/>).
/// </summary>
public sealed class SiloProcess(string data, string arguments = "", string? credentials = null) : IAsyncDisposable
{
    readonly ConcurrentQueue<string> log = new();
    readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(30) };
    Process? process;

    public string Data { get; } = data;
    public int Gateway { get; } = Executables.FreePort();
    public int SiloPort { get; } = Executables.FreePort();
    public int HttpPort { get; } = Executables.FreePort();

    /// <summary>The arguments that put the silo on this object's ports and data folder, on CPU.</summary>
    public string Options => $"--data {Data} --http-port {HttpPort} --silo-port {SiloPort} --gateway-port {Gateway} --device cpu{CredentialsOption} {arguments}";

    string CredentialsOption => credentials is null ? "" : $" --credentials {credentials}";

    public string Log => string.Join('\n', log);

    /// <summary>Whether the silo was started and has not exited since.</summary>
    public bool Running => process is { HasExited: false };

    /// <summary>Starts the silo and waits until its gateway answers `streaming status`.</summary>
    public async Task StartAsync()
    {
        log.Clear();
        process = Executables.Start(Executables.Silo, Options);
        // Drain both pipes: a silo that fills a pipe nobody reads would block on its next log line.
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // The client waits 30 s for a starting silo; a busy machine may need more (libtorch, then Orleans, then a TLS handshake).
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        var status = await Task.Run(() => Client("status", TimeSpan.FromMinutes(2)));
        while (status.Code != 0 && !process.HasExited && DateTime.UtcNow < deadline)
            status = await Task.Run(() => Client("status", TimeSpan.FromMinutes(2)));
        Assert.True(status.Code == 0 && !process.HasExited, $"the silo did not start: {status.Err}\n{Log}");
    }

    /// <summary>Stops the silo with SIGTERM, as Kubernetes or Ctrl+C would, and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (process is null) return;
        using (var kill = Process.Start("kill", $"-TERM {process.Id}")) await kill.WaitForExitAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(deadline.Token);
        StoppedWith = process.ExitCode;
        process.Dispose();
        process = null;
    }

    /// <summary>The exit code of the last <see cref="StopAsync"/>.</summary>
    public int? StoppedWith { get; private set; }

    /// <summary>Kills the silo with SIGKILL, as a crash, an out-of-memory kill or a lost node would: no shutdown, no flush.</summary>
    public async Task KillAsync()
    {
        if (process is null) return;
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        process = null;
    }

    /// <summary>The run's optimizer steps as /metrics reports them now (main and branch; null before its trainer reports).</summary>
    public async Task<long?> StepsAsync(string run)
    {
        try
        {
            var line = (await MetricsAsync(run)).Split('\n').FirstOrDefault(l => l.StartsWith("streaming_optimizer_steps_total"));
            return line is null ? null : long.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException)
        {
            return null;   // not listening yet
        }
    }

    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    /// <summary>Runs `streaming ARGS --gateway PORT` (with this silo's --credentials, when it was given some).</summary>
    public (int Code, string Out, string Err) Client(string args, TimeSpan? timeout = null) =>
        Executables.Run(Executables.Client, $"{args} --gateway {Gateway}{CredentialsOption}", timeout);

    public JsonObject Status(string run)
    {
        var status = Client($"status --run {run} --json");
        Assert.True(status.Code == 0, $"status failed: {status.Err}\nsilo log:\n{Log}");
        return JsonNode.Parse(status.Out)!["runs"]![0]!.AsObject();
    }

    /// <summary>Waits (at most 3 minutes) until the run has trained every token, every evaluation is in and no
    /// anneal is pending or open: nothing about it changes any more.</summary>
    public async Task<JsonObject> WaitUntilSettledAsync(string run, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromMinutes(3));
        while (true)
        {
            var status = Status(run);
            Assert.DoesNotContain("failed", (string?)status["phase"]);
            var corpora = status["corpora"]!.AsArray();
            var eval = JsonNode.Parse(Eval(run))!;
            if (corpora.All(c => (long)c!["tokensRead"]! == (long)c["tokensTotal"]!)
                && status["evaluations"]!.AsArray().Count >= corpora.Count
                && status["pendingAnnealSteps"] is null && status["branch"] is null
                && (int)eval["pending"]! == 0
                && status["releases"]!.AsArray().All(r => r!["loss"]!.AsObject().Count > 0))
                return status;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"run {run} did not settle in {(limit ?? TimeSpan.FromMinutes(3)).TotalMinutes:F0} minutes: {status}\nsilo log:\n{Log}");
            await Task.Delay(1000);
        }
    }

    public string Eval(string run)
    {
        var eval = Client($"eval --run {run} --json");
        Assert.True(eval.Code == 0, $"eval failed: {eval.Err}\nsilo log:\n{Log}");
        return eval.Out;
    }

    /// <summary>The run's lines of /metrics in the metrics contract (docs/observability.md) (all but the moving tokens/s), sorted.</summary>
    public async Task<string> MetricsAsync(string run)
    {
        var text = await http.GetStringAsync($"http://127.0.0.1:{HttpPort}/metrics");
        return string.Join('\n', text.Split('\n')
            .Where(l => l.StartsWith("streaming_") && l.Contains($"run=\"{run}\"") && !l.StartsWith("streaming_tokens_per_second"))
            .Order(StringComparer.Ordinal));
    }

    /// <summary>What a user sees of a finished run: its status (less what moves by itself: throughput and the
    /// silo's address), its evaluations and its metrics.</summary>
    public async Task<string> ObserveAsync(string run)
    {
        var status = Status(run);
        status.Remove("tokensPerSecond");
        status.Remove("modelInMemory");   // a finished run lets go of its model a while after it finished, and a restart at once
        status.Remove("silo");
        var metrics = await MetricsAsync(run);
        Assert.Contains("streaming_eval_loss", metrics);
        return $"{status.ToJsonString()}\n{Eval(run)}\n{metrics}";
    }

    void Keep(string? line)
    {
        if (line is null) return;
        log.Enqueue(line);
        while (log.Count > 400) log.TryDequeue(out _);
    }

    public async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false }) process.Kill(entireProcessTree: true);
        if (process is not null) await process.WaitForExitAsync();
        process?.Dispose();
        http.Dispose();
    }
}
