using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Streaming.Training.Data;

namespace Streaming.Integration.Tests.Metrics;

/// <summary>
/// The silo's /metrics with real parts: a silo process trains a small corpus, `promtool check metrics`
/// reads the exposition, a real Prometheus scrapes it, a PromQL query returns the learning rate that
/// `streaming status` reports, and every query of the Grafana dashboard (variable, panels, annotations)
/// returns data through Prometheus' HTTP API.
/// </summary>
public sealed partial class MetricsTests : IDisposable
{
    static readonly string[] Contract =
    [
        "streaming_learning_rate", "streaming_schedule_phase", "streaming_optimizer_steps_total", "streaming_tokens_trained_total", "streaming_tokens_anneal_only_total",
        "streaming_train_loss", "streaming_eval_loss", "streaming_forgetting", "streaming_tokens_per_second",
    ];

    /// <summary>Reported only where NVML finds NVIDIA GPUs (GpuMemory.cs); a CPU machine has none to show.</summary>
    static readonly string[] GpuOnly = ["streaming_gpu_memory_used_bytes", "streaming_gpu_memory_total_bytes"];

    readonly string data = Directory.CreateTempSubdirectory("streaming-metrics-").FullName;
    readonly int gateway = Executables.FreePort(), siloPort = Executables.FreePort(), httpPort = Executables.FreePort();
    Process? silo;

    [Fact]
    public async Task PrometheusScrapesTheContractAndEveryDashboardQueryReturnsData()
    {
        var corpus = Path.Combine(data, "english.jsonl");
        await File.WriteAllLinesAsync(corpus, (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Take(20));
        silo = Executables.Start(Executables.Silo, $"--data {data} --http-port {httpPort} --silo-port {siloPort} --gateway-port {gateway} --device cpu");
        // Scraping from before the run starts, so that its task start and its release are in Prometheus' history.
        var started = DateTimeOffset.UtcNow;
        await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{httpPort}");
        var ingest = Executables.Run(Executables.Client, $"ingest --run metrics --gateway {gateway} {corpus}");
        Assert.True(ingest.Code == 0, ingest.Err);
        // Finished: the rate stays put from here on, so the scrape and the status call must agree.
        var status = await Executables.WaitForRun(gateway, "metrics", r => r.GetProperty("corpora")[0].GetProperty("tokensRead").GetInt64()
            == r.GetProperty("corpora")[0].GetProperty("tokensTotal").GetInt64() && r.GetProperty("evaluations").GetArrayLength() == 1);

        using var http = new HttpClient();
        var exposition = await http.GetStringAsync($"http://127.0.0.1:{httpPort}/metrics");
        foreach (var name in Contract) Assert.Contains($"\n{name}{{", exposition);
        Assert.Contains("\norleans_", exposition);
        Assert.Contains("\ndotnet_", exposition);
        // promtool: the whole exposition parses (exit 1 is a parse error; 3 is lint about Orleans' and .NET's
        // own names, which are not ours to change), and our families pass the lint too.
        Assert.NotEqual(1, Promtool(exposition).Code);
        var ours = string.Join('\n', exposition.Split('\n').Where(l => l.Contains("streaming_"))) + "\n";
        var lint = Promtool(ours);
        Assert.True(lint.Code == 0, $"promtool check metrics: {lint.Out}{lint.Err}");

        var lr = status.GetProperty("lr").GetDouble();
        var sample = await Eventually(() => prometheus.QueryAsync("streaming_learning_rate{run=\"metrics\"}"));
        Assert.Equal(lr, sample.Single().Value, lr * 1e-12);
        var phase = await prometheus.QueryAsync("streaming_schedule_phase{run=\"metrics\"} == 1");
        Assert.Equal(status.GetProperty("phase").GetString(), phase.Single().Labels["phase"]);
        // Every token once: trained by the main trajectory, or (a task's last blocks, paper protocol) by its anneal branch only.
        var tokens = await prometheus.QueryAsync("streaming_tokens_trained_total{run=\"metrics\",corpus=\"english\"}");
        var annealOnly = await prometheus.QueryAsync("streaming_tokens_anneal_only_total{run=\"metrics\",corpus=\"english\"}");
        var english = status.GetProperty("corpora")[0];
        Assert.Equal(english.GetProperty("tokensTrained").GetInt64(), (long)tokens.Single().Value);
        Assert.Equal(english.GetProperty("tokensAnnealOnly").GetInt64(), (long)annealOnly.Single().Value);
        Assert.Equal(BlockStore.Open(data, "english").TrainTokens, (long)tokens.Single().Value + (long)annealOnly.Single().Value);

        // The same evaluations through `streaming eval`: one loss-matrix row, no forgetting for the only task, figures.
        var plots = Path.Combine(data, "plots");
        var eval = Executables.Run(Executables.Client, $"eval --run metrics --json --plot {plots} --gateway {gateway}");
        Assert.True(eval.Code == 0, eval.Err);
        var report = JsonDocument.Parse(eval.Out).RootElement;
        var row = Assert.Single(report.GetProperty("matrix").EnumerateArray());
        Assert.Equal("english", row.GetProperty("afterTask").GetString());
        var evalLoss = await prometheus.QueryAsync("streaming_eval_loss{run=\"metrics\",corpus=\"english\"}");
        Assert.Equal(row.GetProperty("loss").GetProperty("english").GetDouble(), evalLoss.Single().Value, 1e-9);
        Assert.Equal(0, report.GetProperty("forgetting").GetProperty("english").GetDouble());
        Assert.All(new[] { "loss-matrix.png", "validation-loss.png" }, png => Assert.True(new FileInfo(Path.Combine(plots, png)).Length > 10_000, png));

        var stored = await prometheus.MetricNamesAsync();
        foreach (var name in DashboardMetrics())
            Assert.True(stored.Contains(name) || GpuOnly.Contains(name), $"the dashboard queries {name}, which the silo does not export");
        foreach (var name in AlertTests.RuleMetrics())
            Assert.True(stored.Contains(name), $"deploy/prometheus/alerts.yml reads {name}, which the silo does not export");
        // A healthy finished run: a finite loss, nothing left to train, nothing waiting for the evaluator.
        foreach (var healthy in new[] { "streaming_train_loss_nonfinite", "streaming_run_failed", "streaming_tokens_to_train", "streaming_eval_pending_snapshots" })
            Assert.Equal(0, (await prometheus.QueryAsync($"{healthy}{{run=\"metrics\"}}")).Single().Value);
        var free = (await prometheus.QueryAsync("streaming_data_free_bytes")).Single();
        Assert.Equal(Path.GetFullPath(data), free.Labels["path"]);
        Assert.InRange(free.Value, 1, (await prometheus.QueryAsync("streaming_data_size_bytes")).Single().Value);

        // Every query of the dashboard returns data for this run, as Grafana sends it: the run variable's, each
        // panel's at the end of the run, each annotation's over the run (its task start and its release).
        var dashboard = Dashboard.RootElement;
        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray().Where(v => v.GetProperty("type").GetString() == "query"))
        {
            var values = LabelValues().Match(variable.GetProperty("definition").GetString()!);
            Assert.True(values.Success, $"variable {variable.GetProperty("name")}: only label_values(metric, label) is checked here");
            Assert.Contains("metrics", await prometheus.LabelValuesAsync(values.Groups[2].Value, values.Groups[1].Value));
        }
        var gpu = exposition.Contains("\nstreaming_gpu_memory_used_bytes");
        foreach (var panel in dashboard.GetProperty("panels").EnumerateArray())
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                var expr = target.GetProperty("expr").GetString()!;
                if (!gpu && GpuOnly.Any(expr.Contains)) continue;   // NVML finds no NVIDIA GPU on this machine: nothing to show
                var series = await prometheus.QueryAsync(ForThisRun(expr));
                Assert.True(series.Count > 0, $"panel \"{panel.GetProperty("title")}\": {expr} returns no series");
            }
        var annotations = dashboard.GetProperty("annotations").GetProperty("list").EnumerateArray().ToList();
        Assert.Equal(["Task starts", "Releases"], annotations.Select(a => a.GetProperty("name").GetString()));
        foreach (var annotation in annotations)
        {
            var expr = annotation.GetProperty("expr").GetString()!;
            var series = await prometheus.QueryRangeAsync(ForThisRun(expr), started, DateTimeOffset.UtcNow, TimeSpan.FromSeconds(1));
            Assert.True(series.Count == 1, $"annotation \"{annotation.GetProperty("name")}\": {expr} returns {series.Count} series over the run, not 1");
        }
    }

    static string ForThisRun(string expr) => expr.Replace("$run", "metrics");

    [GeneratedRegex(@"^label_values\((\w+),\s*(\w+)\)$")]
    private static partial Regex LabelValues();

    static readonly JsonDocument Dashboard =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Executables.RepositoryRoot, "deploy", "grafana", "dashboards", "streaming.json")));

    /// <summary>Metric names in the panels' expressions of deploy/grafana/dashboards/streaming.json.</summary>
    static HashSet<string> DashboardMetrics()
    {
        var names = new HashSet<string>();
        foreach (var panel in Dashboard.RootElement.GetProperty("panels").EnumerateArray())
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
                foreach (Match m in MetricName().Matches(target.GetProperty("expr").GetString()!))
                    names.Add(m.Value);
        Assert.NotEmpty(names);
        foreach (var name in Contract) Assert.Contains(name, names);
        return names;
    }

    /// <summary>Our metric families and Orleans' (PromQL functions, labels and keywords never have these prefixes).</summary>
    [GeneratedRegex(@"\b(streaming|orleans|dotnet)_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    static (int Code, string Out, string Err) Promtool(string exposition)
    {
        var promtool = Executables.Find("promtool") ?? throw new InvalidOperationException("promtool is not installed: apt-get install -y prometheus (test.sh does this)");
        using var process = Process.Start(new ProcessStartInfo(promtool, "check metrics")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(exposition);
        process.StandardInput.Close();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    static async Task<T> Eventually<T>(Func<Task<T>> query) where T : System.Collections.ICollection
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var result = await query();
            if (result.Count > 0) return result;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Prometheus had no sample after 30 s of scraping");
            await Task.Delay(500);
        }
    }

    public void Dispose()
    {
        if (silo is { HasExited: false }) silo.Kill(entireProcessTree: true);
        silo?.Dispose();
        Directory.Delete(data, recursive: true);
    }
}
