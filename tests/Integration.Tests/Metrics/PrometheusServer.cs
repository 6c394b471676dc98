using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Streaming.Integration.Tests.Metrics;

/// <summary>A throwaway Prometheus (Debian's package) on 127.0.0.1 that scrapes one target every second (and evaluates
/// rules, when given a rule file, as often); killed on dispose.</summary>
sealed class PrometheusServer : IAsyncDisposable
{
    readonly Process process;
    readonly string folder;
    readonly HttpClient http;

    PrometheusServer(Process process, string folder, int port)
    {
        this.process = process;
        this.folder = folder;
        http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public static async Task<PrometheusServer> StartAsync(string target, string? ruleFile = null)
    {
        var executable = Executables.Find("prometheus") ?? throw new InvalidOperationException(
            "prometheus is not installed; the metrics tests need it: apt-get install -y prometheus (test.sh does this)");
        var folder = Directory.CreateTempSubdirectory("streaming-prometheus-").FullName;
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files: [{(ruleFile is null ? "" : $"\"{ruleFile}\"")}]
            scrape_configs:
              - job_name: streaming
                static_configs:
                  - targets: ["{target}"]
            """);
        var port = Executables.FreePort();
        var info = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(folder, "tsdb")}", $"--web.listen-address=127.0.0.1:{port}" })
            info.ArgumentList.Add(arg);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, folder, port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"prometheus exited at start with code {process.ExitCode}");
            try
            {
                if ((await server.http.GetAsync("/-/ready")).IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new TimeoutException("prometheus was not ready within 30 s");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>An instant PromQL query through the HTTP API: the samples' label sets and values.</summary>
    public async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        var answer = await http.GetFromJsonAsync<JsonElement>($"/api/v1/query?query={Uri.EscapeDataString(promql)}");
        if (answer.GetProperty("status").GetString() != "success") throw new InvalidOperationException($"query {promql} failed: {answer}");
        return [.. answer.GetProperty("data").GetProperty("result").EnumerateArray().Select(r => (
            r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            double.Parse(r.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture)))];
    }

    /// <summary>A range query through the HTTP API (as Grafana sends for annotations): the label sets of the series returned.</summary>
    public async Task<List<Dictionary<string, string>>> QueryRangeAsync(string promql, DateTimeOffset start, DateTimeOffset end, TimeSpan step)
    {
        var answer = await http.GetFromJsonAsync<JsonElement>(FormattableString.Invariant(
            $"/api/v1/query_range?query={Uri.EscapeDataString(promql)}&start={start.ToUnixTimeMilliseconds() / 1000.0:F3}&end={end.ToUnixTimeMilliseconds() / 1000.0:F3}&step={step.TotalSeconds}"));
        if (answer.GetProperty("status").GetString() != "success") throw new InvalidOperationException($"query {promql} failed: {answer}");
        return [.. answer.GetProperty("data").GetProperty("result").EnumerateArray()
            .Select(r => r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!))];
    }

    /// <summary>The values of a label on the series of one metric (what Grafana's label_values(metric, label) lists).</summary>
    public async Task<List<string>> LabelValuesAsync(string label, string metric)
    {
        var answer = await http.GetFromJsonAsync<JsonElement>($"/api/v1/label/{Uri.EscapeDataString(label)}/values?match[]={Uri.EscapeDataString(metric)}");
        return [.. answer.GetProperty("data").EnumerateArray().Select(v => v.GetString()!)];
    }

    /// <summary>The alerts pending or firing now: name, state and labels.</summary>
    public async Task<List<(string Name, string State, Dictionary<string, string> Labels)>> AlertsAsync()
    {
        var answer = await http.GetFromJsonAsync<JsonElement>("/api/v1/alerts");
        return [.. answer.GetProperty("data").GetProperty("alerts").EnumerateArray().Select(a =>
        {
            var labels = a.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            return (labels["alertname"], a.GetProperty("state").GetString()!, labels);
        })];
    }

    /// <summary>Every metric name Prometheus has stored.</summary>
    public async Task<HashSet<string>> MetricNamesAsync()
    {
        var answer = await http.GetFromJsonAsync<JsonElement>("/api/v1/label/__name__/values");
        return [.. answer.GetProperty("data").EnumerateArray().Select(n => n.GetString()!)];
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        process.Dispose();
        http.Dispose();
        Directory.Delete(folder, recursive: true);
    }
}
