using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Streaming.Integration.Tests.Persistence;
using Streaming.Training.Data;

namespace Streaming.Integration.Tests;

/// <summary>
/// The user's paths across a restart, each with the silo executable stopped (SIGTERM) and started again on the
/// same data folder: status, eval and metrics answer with the same numbers as before. And a silo starts on the
/// data folder an earlier version left, reads it, and serves every run whose state it can read.
/// </summary>
public sealed class RestartTests : IDisposable
{
    readonly string data = Directory.CreateTempSubdirectory("streaming-restart-").FullName;

    public void Dispose() => Directory.Delete(data, recursive: true);

    /// <summary>The first documents of a sample corpus: a few blocks of training and some validation.</summary>
    string Slice(string corpus, int documents, string? name = null)
    {
        var path = Path.Combine(data, "in", $"{name ?? corpus}.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllLines(path, File.ReadLines(SampleCorpora.File(corpus)).Take(documents));
        return path;
    }

    [Fact]
    public async Task TheMainJobRunTwiceEndsWithTheSameLossMatrixAndAStartedSiloShowsIt()
    {
        await using var silo = new SiloProcess(Path.Combine(data, "silo"));
        var demo = $"{silo.Options} --demo {Slice("english", 15, "en")} {Slice("german", 15, "de")}";
        var first = await Task.Run(() => Executables.Run(Executables.Silo, demo, TimeSpan.FromMinutes(4)));
        Assert.True(first.Code == 0, $"first demo: {first.Err}\n{first.Out}");
        var second = await Task.Run(() => Executables.Run(Executables.Silo, demo, TimeSpan.FromMinutes(2)));
        Assert.True(second.Code == 0, $"second demo: {second.Err}\n{second.Out}");
        Assert.DoesNotContain("Exception", second.Err);
        Assert.Contains("already queued en", second.Out);
        var matrix = LossMatrix(first.Out);
        Assert.Equal(matrix, LossMatrix(second.Out));

        // A silo started on the same data shows those numbers, and again after a restart.
        await silo.StartAsync();
        var eval = JsonNode.Parse(silo.Eval("demo"))!;
        Assert.Equal(matrix, string.Join('\n', eval["matrix"]!.AsArray().Select(row =>
            $"{row!["afterTask"]} {string.Join(' ', row["loss"]!.AsObject().Select(l => $"{(double)l.Value!:F3}"))}")));
        var before = await silo.ObserveAsync("demo");
        await silo.RestartAsync();
        Assert.Equal(before, await silo.ObserveAsync("demo"));
    }

    /// <summary>The rows of the demo's loss-matrix table, "task loss loss ..." each.</summary>
    static string LossMatrix(string demoOutput)
    {
        var rows = demoOutput.Split('\n')
            .Select(l => l.Split('│', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Where(cells => cells.Length >= 2 && cells[0] is "en" or "de" && cells.Skip(1).All(c => c == "" || double.TryParse(c, out _)))
            .Select(cells => string.Join(' ', cells));
        var matrix = string.Join('\n', rows);
        Assert.True(matrix.Split('\n').Length == 2, $"no loss matrix in:\n{demoOutput}");
        return matrix;
    }

    [Fact]
    public async Task ASiloStartsOnTheStateAnEarlierVersionWroteAndServesEveryRunItCanRead()
    {
        await using var silo = new SiloProcess(Path.Combine(data, "silo"));
        var input = Path.Combine(data, "in");
        using (var db = new SqliteConnection($"Data Source={Path.Combine(Directory.CreateDirectory(silo.Data).FullName, "grain-state.db")};Pooling=false"))
        {
            db.Open();
            Execute(db, "CREATE TABLE grain_state (state_name TEXT NOT NULL, grain_id TEXT NOT NULL, data BLOB NOT NULL, etag TEXT NOT NULL, updated_utc TEXT NOT NULL, PRIMARY KEY (state_name, grain_id)) WITHOUT ROWID");
            // The rows `--demo` wrote before this version (the evaluations among them stopped the silo at start) ...
            foreach (var (state, grain, file) in new[]
            {
                ("evaluation", "evaluator/demo", "evaluation.evaluator.demo.json"), ("run", "trainer/demo", "run.trainer.demo.json"),
                ("corpus", "corpus/en", "corpus.corpus.en.json"), ("corpus", "corpus/de", "corpus.corpus.de.json"),
            })
                Insert(db, state, grain, GrainStateSerializerTests.Legacy(file, silo.Data, input));
            // ... in a registry that also names a run whose state is damaged.
            Insert(db, "runs", "runregistry/0", GrainStateSerializerTests.Legacy("runs.runregistry.0.json").Replace("[\"demo\"]", "[\"broken\",\"demo\"]"));
            Insert(db, "run", "trainer/broken", "{\"Corpora\": 5}");
        }

        await silo.StartAsync();
        var status = silo.Client("status --json");
        Assert.True(status.Code == 0, status.Err);
        var runs = JsonNode.Parse(status.Out)!["runs"]!.AsArray();
        var demo = runs.Single(r => (string?)r!["run"] == "demo")!;
        Assert.Equal([("en", 50_605L), ("de", 78_047L)], demo["corpora"]!.AsArray().Select(c => ((string)c!["name"]!, (long)c["tokensTotal"]!)));
        Assert.Equal("file", (string?)demo["order"]);   // it started before runs could shuffle: it keeps the order it trained in
        var broken = runs.Single(r => (string?)r!["run"] == "broken")!;
        Assert.Equal("unreadable", (string?)broken["phase"]);
        Assert.Contains("the stored state 'run' of trainer/broken cannot be read: RunState:", (string?)broken["error"]);

        var one = silo.Client("status --run broken");
        Assert.Equal(1, one.Code);
        Assert.StartsWith("error: the stored state 'run' of trainer/broken cannot be read", one.Err);
        Assert.Single(one.Err.TrimEnd().Split('\n'));

        var eval = JsonNode.Parse(silo.Eval("demo"))!["matrix"]!.AsArray();
        Assert.Equal(3.81557828276095, (double)eval[0]!["loss"]!["en"]!);
        Assert.Equal(3.149263384127915, (double)eval[1]!["loss"]!["en"]!);
        Assert.Equal(2.840490422361683, (double)eval[1]!["loss"]!["de"]!);

        var metrics = await new HttpClient().GetStringAsync($"http://127.0.0.1:{silo.HttpPort}/metrics");
        Assert.Contains("grain=\"trainer/broken\",state=\"run\"} 1", metrics);
        Assert.DoesNotContain("grain=\"evaluator/demo\"", metrics);
        Assert.Contains("run broken did not resume", silo.Log);

        // The evaluations, now written back in this version's format where they changed, read again after a restart.
        await silo.RestartAsync();
        Assert.Equal(eval.ToJsonString(), JsonNode.Parse(silo.Eval("demo"))!["matrix"]!.ToJsonString());
    }

    static void Execute(SqliteConnection db, string sql)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    static void Insert(SqliteConnection db, string state, string grain, string json)
    {
        using var command = db.CreateCommand();
        command.CommandText = "INSERT INTO grain_state VALUES ($state, $grain, $data, $etag, $now)";
        command.Parameters.AddWithValue("$state", state);
        command.Parameters.AddWithValue("$grain", grain);
        command.Parameters.Add("$data", SqliteType.Blob).Value = System.Text.Encoding.UTF8.GetBytes(json);
        command.Parameters.AddWithValue("$etag", Guid.NewGuid().ToString("N"));
        command.Parameters.AddWithValue("$now", DateTime.UtcNow.ToString("O"));
        command.ExecuteNonQuery();
    }

    /// <summary>A silo process checkpointing every 5 steps, with 40 english documents queued on <paramref name="run"/>.</summary>
    async Task<SiloProcess> TrainingAsync(string run)
    {
        var silo = new SiloProcess(Path.Combine(data, "silo"), "--checkpoint-every 5");
        try
        {
            await silo.StartAsync();
            var ingest = silo.Client($"ingest --run {run} {Slice("english", 40)}");
            Assert.True(ingest.Code == 0, ingest.Err);
            return silo;
        }
        catch
        {
            await silo.DisposeAsync();   // the caller never gets it to dispose
            throw;
        }
    }

    [Fact]
    public async Task ASigtermWhileTrainingWaitsForTheStepAndExitsCleanly()
    {
        await using var silo = await TrainingAsync("busy");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while ((await silo.StepsAsync("busy") ?? 0) < 1 && DateTime.UtcNow < deadline) await Task.Delay(100);

        await silo.StopAsync();
        // Before: the command line ended the process 2 s after SIGTERM, with the training thread still in a step.
        Assert.True(silo.StoppedWith == 0, $"exit code {silo.StoppedWith}\n{silo.Log}");
        Assert.False(silo.Log.Contains("fail:") || silo.Log.Contains("Could not run"), $"an error in the silo's log:\n{silo.Log}");
    }

    [Fact]
    public async Task AfterAnOnDemandAnneal()
    {
        await using var silo = await TrainingAsync("anneal");
        var anneal = await Task.Run(() => silo.Client("anneal --run anneal --steps 3 --wait", TimeSpan.FromMinutes(3)));
        Assert.True(anneal.Code == 0, $"{anneal.Err}\nsilo log:\n{silo.Log}");
        var settled = await silo.WaitUntilSettledAsync("anneal");
        Assert.Contains(settled["releases"]!.AsArray(), r => (string?)r!["mode"] == "on-demand");

        var before = await silo.ObserveAsync("anneal");
        await silo.RestartAsync();
        Assert.Equal(before, await silo.ObserveAsync("anneal"));
    }

    [Fact]
    public async Task AfterAPlannedAnneal()
    {
        await using var silo = new SiloProcess(Path.Combine(data, "silo"), "--checkpoint-every 5");
        await silo.StartAsync();
        // Steps of 64 rows, so that the run is still training when the plan comes; a cooldown its curve sees.
        var create = silo.Client("run create planned --layers 1 --width 32 --heads 2 --context 32 --batch-tokens 2048 --evaluate-every 2 " +
            "--warmup 2 --cooldown 30 --max-lr 1e-2 --const-lr 1e-3 --min-lr 1e-4 --task-steps 300");
        Assert.True(create.Code == 0, create.Err);
        var ingest = silo.Client($"ingest --run planned {SampleCorpora.File("english")}");
        Assert.True(ingest.Code == 0, ingest.Err);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (JsonNode.Parse(silo.Eval("planned"))!["main"]!.AsArray().Select(m => (long?)m!["snapshot"]!["mainStep"]).ToList() is var steps
            && (steps.Count(s => s > 0) < 12 || steps.Max() < 50))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no curve to plan from after 3 minutes\nsilo log:\n{silo.Log}");
            await Task.Delay(500);
        }
        var anneal = await Task.Run(() => silo.Client("anneal --run planned --budget 4 --wait", TimeSpan.FromMinutes(3)));
        Assert.True(anneal.Code == 0, $"{anneal.Err}\nsilo log:\n{silo.Log}");
        Assert.Matches(@"planned anneal of run planned: 4 steps from main step [\d,]+, predicted validation loss \d\.\d{4} on english", anneal.Out);
        Assert.Matches(@"\n  predicted \d\.\d{4}, measured \d\.\d{4} on english", anneal.Out);
        var settled = await silo.WaitUntilSettledAsync("planned");
        Assert.Single(settled["releases"]!.AsArray(), r => r!["predicted"] is not null);
        Assert.Matches(@"planned: last planned anneal release .*on-demand-1-step-\d+ at step [\d,]+: predicted \d\.\d{4}, measured \d\.\d{4} on english",
            silo.Client("status --run planned").Out);
        var plan = silo.Client("anneal --run planned --budget 10 --plan-only");
        Assert.True(plan.Code == 0, plan.Err);

        // The fit's inputs (the evaluations with their main steps) and the release's prediction survive a restart: the same plan.
        var before = await silo.ObserveAsync("planned");
        Assert.Contains("streaming_anneal_predicted_loss{", before);
        Assert.Contains("streaming_anneal_measured_loss{", before);
        await silo.RestartAsync();
        Assert.Equal(before, await silo.ObserveAsync("planned"));
        Assert.Equal(plan.Out, silo.Client("anneal --run planned --budget 10 --plan-only").Out);
    }

    [Fact]
    public async Task AfterAReleaseOfTheWeightAverage()
    {
        await using var silo = new SiloProcess(Path.Combine(data, "silo"), "--checkpoint-every 5");
        await silo.StartAsync();
        var create = silo.Client("run create average --average-decay 0.9 --task-steps 12");
        Assert.True(create.Code == 0, create.Err);
        Assert.Contains("weight average decay 0.9, releases at task ends: anneal", create.Out);
        var ingest = silo.Client($"ingest --run average {Slice("english", 40)}");
        Assert.True(ingest.Code == 0, ingest.Err);
        await silo.WaitUntilSettledAsync("average");
        var release = await Task.Run(() => silo.Client("anneal --run average --mode average --wait", TimeSpan.FromMinutes(3)));
        Assert.True(release.Code == 0, $"{release.Err}\nsilo log:\n{silo.Log}");
        Assert.Contains("released the weight average of run average at step 12", release.Out);
        Assert.Contains("validation loss english:", release.Out);
        var settled = await silo.WaitUntilSettledAsync("average");
        Assert.Equal(["paper-protocol", "average"], settled["releases"]!.AsArray().Select(r => (string?)r!["mode"]));
        Assert.Equal((string?)settled["lastRelease"], (string?)settled["average"]!["lastRelease"]);
        var status = silo.Client("status --run average");
        Assert.Contains("weight average, decay 0.9 (half-life 7 steps), task ends release anneal; last average release ", status.Out);

        // Checkpointed with the run: a restarted silo still lists it, with its losses.
        var before = await silo.ObserveAsync("average");
        Assert.True(before.Split('\n').Any(l => l.StartsWith("streaming_average_decay{") && l.Split(' ')[1] == "0.9"), before);
        Assert.Contains("streaming_average_release_step{", before);
        await silo.RestartAsync();
        Assert.Equal(before, await silo.ObserveAsync("average"));
    }

    [Fact]
    public async Task AfterACompareTheSameCommandOnlyRewritesTheReport()
    {
        await using var silo = new SiloProcess(Path.Combine(data, "silo"));
        await silo.StartAsync();
        var output = Path.Combine(data, "report");
        var compare = $"compare --corpora {Slice("english", 60)},{Slice("german", 60)} --schedules infinite,repeated-cosine --steps-per-task 4 " +
            $"--warmup 1 --cooldown 2 --evaluate-every 2 --out {output}";
        var first = await Task.Run(() => silo.Client(compare, TimeSpan.FromMinutes(5)));
        Assert.True(first.Code == 0, $"{first.Err}\nsilo log:\n{silo.Log}");
        var runs = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json"))).RootElement
            .GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("run").GetString()!).ToList();
        Assert.Equal(2, runs.Count);
        var before = new List<string>();
        foreach (var run in runs)
        {
            await silo.WaitUntilSettledAsync(run);
            before.Add(await silo.ObserveAsync(run));
        }
        var summary = Summary(output);

        await silo.RestartAsync();
        for (var i = 0; i < runs.Count; i++) Assert.Equal(before[i], await silo.ObserveAsync(runs[i]));
        var again = await Task.Run(() => silo.Client(compare, TimeSpan.FromMinutes(2)));
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("(trained before)", File.ReadAllText(Path.Combine(output, "report.md")));
        Assert.Equal(summary, Summary(output));
    }

    static string Summary(string output) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json"))).RootElement.GetProperty("summary").GetRawText();

    [Fact]
    public async Task ClusteredOverRedis()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var silo = new SiloProcess(Path.Combine(data, "silo"), $"--cluster redis --redis {redis.ConnectionString} --advertise-ip 127.0.0.1");
        await silo.StartAsync();
        var ingest = silo.Client($"ingest --run clustered {Slice("english", 20)}");
        Assert.True(ingest.Code == 0, ingest.Err);
        await silo.WaitUntilSettledAsync("clustered");
        var before = await silo.ObserveAsync("clustered");
        await silo.RestartAsync();
        Assert.Equal(before, await silo.ObserveAsync("clustered"));
    }
}
