using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Streaming.Training.Data;
using YamlDotNet.RepresentationModel;

namespace Streaming.Integration.Tests.Metrics;

/// <summary>
/// deploy/prometheus/alerts.yml: its promtool unit tests pass, both Prometheus configs load it, every alert has a
/// unit test and a section in docs/observability.md, the dashboard marks its forgetting bound, and a real Prometheus that scrapes a real silo fires
/// StreamingNonFiniteLoss, and nothing else, for a run whose loss turned NaN.
/// </summary>
public sealed partial class AlertTests : IDisposable
{
    /// <summary>What issue 18 asks the rules to catch: a failed run, a stall, a NaN loss, a slow evaluator, forgetting, a full disk.</summary>
    static readonly string[] Required =
    [
        "StreamingRunFailed", "StreamingTrainingStalled", "StreamingNonFiniteLoss", "StreamingEvaluatorBehind",
        "StreamingForgettingHigh", "StreamingDataDiskAlmostFull",
    ];

    public static readonly string RuleFile = Path.Combine(Executables.RepositoryRoot, "deploy", "prometheus", "alerts.yml");

    readonly string data = Directory.CreateTempSubdirectory("streaming-alerts-").FullName;
    readonly int gateway = Executables.FreePort(), siloPort = Executables.FreePort(), httpPort = Executables.FreePort();
    Process? silo;

    [Fact]
    public void PromtoolUnitTestsOfTheRulesPass()
    {
        var (code, stdout, stderr) = Promtool("test", "rules", "deploy/prometheus/alerts.test.yml");
        Assert.True(code == 0, $"promtool test rules deploy/prometheus/alerts.test.yml:\n{stdout}{stderr}");
        Assert.Contains("SUCCESS", stdout);
    }

    [Theory]
    [InlineData("deploy/prometheus/prometheus.yml")]
    [InlineData("deploy/prometheus/kubernetes.yml")]
    public void PrometheusConfigLoadsTheRules(string config)
    {
        var (code, stdout, stderr) = Promtool("check", "config", config);
        Assert.True(code == 0, $"promtool check config {config}:\n{stdout}{stderr}");
        Assert.Contains("1 rule files found", stdout);
        Assert.Contains($"Checking {Path.GetDirectoryName(config)}/alerts.yml", stdout);
    }

    [Fact]
    public void EveryAlertHasAUnitTestAndARunbook()
    {
        var alerts = Alerts();
        Assert.Superset(Required.ToHashSet(), alerts.Keys.ToHashSet());
        var unitTests = File.ReadAllText(Path.Combine(Executables.RepositoryRoot, "deploy", "prometheus", "alerts.test.yml"));
        var docs = File.ReadAllText(Path.Combine(Executables.RepositoryRoot, "docs", "observability.md"));
        foreach (var (name, rule) in alerts)
        {
            Assert.Contains($"alertname: {name}\n", unitTests);
            // The runbook link is the section's anchor as GitHub makes it (lower case).
            Assert.Equal($"docs/observability.md#{name.ToLowerInvariant()}", ((YamlScalarNode)rule["annotations"]["runbook"]).Value);
            Assert.Contains($"\n### {name}\n", docs);
        }
    }

    [Fact]
    public void TheDashboardTurnsForgettingRedAtTheAlertsBound()
    {
        var rules = ((YamlSequenceNode)LoadRuleFile()["groups"]).Children.SelectMany(g => ((YamlSequenceNode)g["rules"]).Children);
        var bound = rules.Cast<YamlMappingNode>().Single(r => r.Children.TryGetValue("record", out var name) && name.ToString() == "streaming:forgetting_bound");
        var value = Bound().Match(((YamlScalarNode)bound["expr"]).Value!);
        Assert.True(value.Success, $"streaming:forgetting_bound is not vector(<number>): {bound["expr"]}");
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Executables.RepositoryRoot, "deploy", "grafana", "dashboards", "streaming.json")));
        var panel = dashboard.RootElement.GetProperty("panels").EnumerateArray().Single(p => p.GetProperty("title").GetString() == "Forgetting now");
        var red = panel.GetProperty("fieldConfig").GetProperty("defaults").GetProperty("thresholds").GetProperty("steps").EnumerateArray()
            .Single(s => s.GetProperty("color").GetString() == "red");
        Assert.Equal(double.Parse(value.Groups[1].Value, CultureInfo.InvariantCulture), red.GetProperty("value").GetDouble());
    }

    [GeneratedRegex(@"^vector\(([0-9.eE+-]+)\)$")]
    private static partial Regex Bound();

    [Fact]
    public async Task ANaNLossFiresStreamingNonFiniteLossInARealPrometheus()
    {
        var corpus = Path.Combine(data, "english.jsonl");
        await File.WriteAllLinesAsync(corpus, (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Take(20));
        silo = Executables.Start(Executables.Silo, $"--data {data} --http-port {httpPort} --silo-port {siloPort} --gateway-port {gateway} --device cpu");
        // A peak rate of 1e30 overflows the weights within the warmup: the loss turns NaN and stays NaN.
        var create = Executables.Run(Executables.Client, $"run create diverged --max-lr 1e30 --gateway {gateway}", TimeSpan.FromMinutes(2));
        Assert.True(create.Code == 0, create.Err);
        var ingest = Executables.Run(Executables.Client, $"ingest --run diverged --gateway {gateway} {corpus}");
        Assert.True(ingest.Code == 0, ingest.Err);
        await Executables.WaitForRun(gateway, "diverged", r => r.GetProperty("corpora")[0].GetProperty("tokensRead").GetInt64()
            == r.GetProperty("corpora")[0].GetProperty("tokensTotal").GetInt64());

        await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{httpPort}", RuleFile);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        List<(string Name, string State, Dictionary<string, string> Labels)> aboutTheRun;
        while (true)
        {
            aboutTheRun = [.. (await prometheus.AlertsAsync()).Where(a => a.Labels.GetValueOrDefault("run") == "diverged")];
            if (aboutTheRun.Any(a => a.State == "firing")) break;
            Assert.True(DateTime.UtcNow < deadline, $"no alert fired about run diverged within 60 s; pending: {string.Join(", ", aboutTheRun.Select(a => a.Name))}");
            await Task.Delay(500);
        }
        // Not failed, nothing left to train, the evaluator keeps up: the NaN is the only thing wrong with it.
        var alert = Assert.Single(aboutTheRun);
        Assert.Equal(("StreamingNonFiniteLoss", "firing", "critical"), (alert.Name, alert.State, alert.Labels["severity"]));
        Assert.Equal($"127.0.0.1:{httpPort}", alert.Labels["instance"]);
        Assert.Equal(0, (await prometheus.QueryAsync("streaming_run_failed{run=\"diverged\"}")).Single().Value);
        Assert.Equal(0, (await prometheus.QueryAsync("streaming_tokens_to_train{run=\"diverged\"}")).Single().Value);
    }

    /// <summary>The alerting rules of alerts.yml by name.</summary>
    static Dictionary<string, YamlMappingNode> Alerts() =>
        ((YamlSequenceNode)LoadRuleFile()["groups"]).Children
            .SelectMany(g => ((YamlSequenceNode)g["rules"]).Children.Cast<YamlMappingNode>())
            .Where(r => r.Children.ContainsKey("alert"))
            .ToDictionary(r => ((YamlScalarNode)r["alert"]).Value!, r => r);

    static YamlNode LoadRuleFile()
    {
        var file = new YamlStream();
        file.Load(new StringReader(File.ReadAllText(RuleFile)));
        return file.Documents.Single().RootNode;
    }

    /// <summary>The silo's metrics that alerts.yml reads (a renamed one would silence its alert for good).</summary>
    public static HashSet<string> RuleMetrics() =>
        [.. MetricName().Matches(File.ReadAllText(RuleFile)).Select(m => m.Value)];

    [GeneratedRegex(@"\bstreaming_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    static (int Code, string Out, string Err) Promtool(params string[] arguments)
    {
        var promtool = Executables.Find("promtool") ?? throw new InvalidOperationException("promtool is not installed: apt-get install -y prometheus (test.sh does this)");
        var start = new ProcessStartInfo(promtool, arguments)
        {
            WorkingDirectory = Executables.RepositoryRoot, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"promtool {string.Join(' ', arguments)} did not finish within a minute");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose()
    {
        if (silo is { HasExited: false }) silo.Kill(entireProcessTree: true);
        silo?.Dispose();
        Directory.Delete(data, recursive: true);
    }
}
