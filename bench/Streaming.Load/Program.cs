using System.CommandLine;
using Streaming.Client;
using Streaming.Client.Commands;
using Streaming.Load;

// The load driver against a running silo (bench/load.sh starts one): prints what LoadReport says; exit 0 passed, 1 failed, 2 bad flags.
var defaults = new LoadSettings();
var gateway = new Option<int>("--gateway") { Description = "The silo's client gateway port on localhost", DefaultValueFactory = _ => SiloConnection.DefaultGatewayPort };
var siloPid = new Option<int>("--silo-pid") { Description = "The silo's process id, whose resident memory is watched", Required = true };
var runs = new Option<int>("--runs") { Description = "Runs to create", DefaultValueFactory = _ => defaults.Runs };
var ingests = new Option<int>("--ingests") { Description = "Generated corpora to queue, spread over the runs in turn", DefaultValueFactory = _ => defaults.Ingests };
var hz = new Option<double>("--hz") { Description = "Status calls a second, round-robin over the runs", DefaultValueFactory = _ => defaults.StatusHz };
var corpusKb = new Option<int>("--corpus-kb") { Description = "Size of each generated corpus (sets how long training takes)", DefaultValueFactory = _ => defaults.CorpusBytes / 1024 };
var limit = new Option<int>("--limit-s") { Description = "Seconds the whole load may take before it fails", DefaultValueFactory = _ => (int)defaults.Limit.TotalSeconds };
var p99 = new Option<int>("--p99-limit-ms") { Description = "Slowest allowed 99th percentile of status calls", DefaultValueFactory = _ => (int)defaults.P99Limit.TotalMilliseconds };
var growth = new Option<int>("--growth-limit-mb") { Description = "Most the silo's memory may grow from before training to after every run let go of its model", DefaultValueFactory = _ => (int)(defaults.GrowthLimitBytes >> 20) };
var rounds = new Option<int>("--rounds") { Description = "Rounds one after another on the same silo, each with new runs and corpora (a second tells a leak from memory taken once)", DefaultValueFactory = _ => 1 };
var csv = new Option<string?>("--out") { Description = "Folder for status-calls.csv and memory.csv (round-N/ for each round when there are more)" };
var root = new RootCommand("Streaming.Load: many runs on one silo, queued ingests, status polled at a fixed rate; reports latency, counts and memory")
{
    gateway, siloPid, runs, ingests, hz, corpusKb, limit, p99, growth, rounds, csv,
};
root.SetAction(async (parse, cancellation) =>
{
    var settings = new LoadSettings
    {
        Runs = parse.GetValue(runs), Ingests = parse.GetValue(ingests), StatusHz = parse.GetValue(hz), CorpusBytes = parse.GetValue(corpusKb) * 1024,
        Limit = TimeSpan.FromSeconds(parse.GetValue(limit)), P99Limit = TimeSpan.FromMilliseconds(parse.GetValue(p99)),
        GrowthLimitBytes = (long)parse.GetValue(growth) << 20,
    };
    var roundCount = parse.GetValue(rounds);
    if ((roundCount < 1 ? $"--rounds must be at least 1, not {roundCount}" : settings.Problem()) is { } problem)
    {
        Console.Error.WriteLine($"error: {problem}");
        return 2;
    }
    return await CommonOptions.Guard(async () =>
    {
        await using var silo = await SiloConnection.ConnectAsync(new SiloTarget(parse.GetValue(gateway), Credentials: null), cancellation);
        var reports = await LoadDriver.RunRoundsAsync(silo.Client, settings, parse.GetValue(siloPid), roundCount, report =>
        {
            report.Print(Console.Out);
            if (parse.GetValue(csv) is { } folder) report.WriteCsv(roundCount == 1 ? folder : Path.Combine(folder, $"round-{report.Settings.Round}"));
        }, cancellation);
        if (roundCount > 1) Console.WriteLine(LoadReport.MemoryAcrossRounds(reports));
        return reports.All(r => r.Problems.Count == 0) ? 0 : 1;
    });
});
return await root.Parse(args).InvokeAsync();
