using System.Text.Json;
using Streaming.Training.Checkpoints;
using Streaming.Training.Data;
using Streaming.Training.Engine;
using Streaming.Training.Evaluation;
using Streaming.Training.Loop;
using Streaming.Training.Optim;

namespace Streaming.Integration.Tests;

/// <summary>
/// `streaming compare` end to end against a real silo process: two corpora, two schedules, two seeds, a few steps
/// per task. The report is complete, its numbers are the runs' numbers, and each loss-matrix entry is what a
/// separate evaluation of the stored release gives.
/// </summary>
public sealed class CompareTests : IClassFixture<IngestSilo>
{
    const int StepsPerTask = 4;
    const int ValidationBlocks = 8;   // the silo's default: evaluations use at most this many blocks per corpus

    readonly IngestSilo silo;

    public CompareTests(IngestSilo silo) => this.silo = silo;

    /// <summary>A slice of a sample corpus with enough text for a few blocks of training and of validation.</summary>
    string Slice(string corpus, int documents)
    {
        var path = Path.Combine(silo.Data, "compare-in", $"{corpus}-{documents}.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllLines(path, File.ReadLines(SampleCorpora.File(corpus)).Take(documents));
        return path;
    }

    [Fact]
    public async Task ATinyComparisonWritesACompleteReportWhoseMatrixIsTheStoredReleases()
    {
        var corpora = $"{Slice("english", 60)},{Slice("german", 60)}";
        var output = Path.Combine(silo.Data, "compare-out");
        var arguments = $"compare --corpora {corpora} --schedules infinite,repeated-cosine --steps-per-task {StepsPerTask} --seeds 2 " +
            $"--evaluate-every 2 --out {output}";   // warmup and cooldown derived from the stream
        var first = await Task.Run(() => Executables.Run(Executables.Client, $"{arguments} --gateway {silo.Gateway}", TimeSpan.FromMinutes(5)));
        Assert.True(first.Code == 0, $"compare failed: {first.Err}\n{first.Out}\nsilo log:\n{silo.Log}");
        Assert.Contains("average forgetting", first.Out);
        Assert.Equal("", first.Err);
        Assert.DoesNotContain("seed 1:", first.Out);   // a script (stdout and stderr redirected) gets no progress bars unless asked

        foreach (var file in new[] { "report.md", "results.json", "learning-rate.png", "validation-loss.png", "loss-matrices.png" })
            Assert.True(File.Exists(Path.Combine(output, file)), $"{file} missing");
        foreach (var png in Directory.GetFiles(output, "*.png"))
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png).Take(4));
        var report = File.ReadAllText(Path.Combine(output, "report.md"));
        foreach (var part in new[] { "## Summary", "| infinite |", "| repeated-cosine |", "## Loss matrices", "![loss-matrices](loss-matrices.png)",
            "| warmup | 1 step | derived: 1% of a task of 4 steps, at least 1 |", "| cooldown (infinite) | 1 step | derived: the infinite schedule reaches its constant rate at 60% of the first task (step 2) |",
            "| max lr | 0.002 | the silo's default |", "Significance of repeated-cosine minus infinite, paired by seed over 2 seeds (mean ± standard error): average final loss " })
            Assert.Contains(part, report);
        Assert.Contains("Settings derived from the stream: warmup 1 step", first.Out);
        Assert.Contains("Significance of repeated-cosine minus infinite, paired by seed over 2 seeds", first.Out);

        var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json"))).RootElement;
        var name = results.GetProperty("comparison").GetString()!;
        var runs = results.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(4, runs.Count);
        foreach (var run in runs)
        {
            // Compute-matched: every run executes the same steps on every task, and trains each task's first N blocks.
            Assert.Equal(2 * StepsPerTask, run.GetProperty("learningRate").GetArrayLength());
            var status = await Executables.WaitForRun(silo.Gateway, run.GetProperty("run").GetString()!, _ => true);
            Assert.All(status.GetProperty("corpora").EnumerateArray(), c =>
                Assert.Equal(c.GetProperty("tokensTotal").GetInt64(), c.GetProperty("tokensRead").GetInt64()));
            // The model as the silo reports it: its shape and parameter count, in results.json and the report.
            var model = status.GetProperty("model").GetString()!;
            Assert.Equal(model, run.GetProperty("model").GetString());
            Assert.Equal(status.GetProperty("parameters").GetInt64(), run.GetProperty("parameters").GetInt64());
            Assert.True(run.GetProperty("parameters").GetInt64() > 0);
            Assert.Contains($" into a GPT {model} (", report);
            Assert.Contains("M parameters).", report);
            AssertMatrixIsTheStoredReleases(name, run);
        }

        // The summary is the mean (and spread) of the runs' own numbers.
        foreach (var summary in results.GetProperty("summary").EnumerateArray())
        {
            var schedule = summary.GetProperty("schedule").GetString();
            var ofSchedule = runs.Where(r => r.GetProperty("schedule").GetString() == schedule).ToList();
            Assert.Equal(2, ofSchedule.Count);
            foreach (var measure in new[] { "averageLoss", "averageForgetting", "maxForgetting" })
            {
                var values = ofSchedule.Select(r => r.GetProperty(measure).GetDouble()).ToList();
                var spread = summary.GetProperty(measure);
                Assert.Equal(values.Average(), spread.GetProperty("mean").GetDouble(), 12);
                Assert.Equal(Math.Abs(values[0] - values[1]) / Math.Sqrt(2), spread.GetProperty("sd").GetDouble(), 12);
            }
            Assert.Contains($"| {schedule} |", report);
        }

        // The significance is the paired difference of the runs' own numbers, seed by seed.
        var paired = Assert.Single(results.GetProperty("differences").EnumerateArray()).GetProperty("paired").EnumerateArray()
            .Single(p => p.GetProperty("measure").GetString() == "average final loss");
        double Loss(string schedule, int seed) => runs.Single(r => r.GetProperty("schedule").GetString() == schedule && r.GetProperty("seed").GetInt64() == seed)
            .GetProperty("averageLoss").GetDouble();
        var differences = new[] { 1, 2 }.Select(seed => Loss("repeated-cosine", seed) - Loss("infinite", seed)).ToList();
        Assert.Equal(differences.Average(), paired.GetProperty("mean").GetDouble(), 12);
        Assert.Equal(Math.Abs(differences[0] - differences[1]) / 2, paired.GetProperty("standardError").GetDouble(), 12);
        Assert.Equal(12.706, paired.GetProperty("criticalT").GetDouble());

        // Repeated cosine ends every task at its minimum rate; the infinite schedule re-warms nothing.
        var cosine = runs.First(r => r.GetProperty("schedule").GetString() == "repeated-cosine");
        var minLr = cosine.GetProperty("scheduleConfig").GetProperty("minLr").GetDouble();
        var rates = cosine.GetProperty("learningRate").EnumerateArray().Select(r => r.GetProperty("lr").GetDouble()).ToList();
        Assert.Equal(minLr, rates[StepsPerTask - 1], 12);
        Assert.Equal(minLr, rates[^1], 12);

        // The same command again picks up the finished runs: same numbers, nothing trained again. Progress asked
        // for goes to stderr, and stdout keeps only the results.
        var again = await Task.Run(() => Executables.Run(Executables.Client, $"{arguments} --progress always --gateway {silo.Gateway}", TimeSpan.FromMinutes(2)));
        Assert.True(again.Code == 0, again.Err);
        Assert.True(again.Err.Contains("infinite seed 2: trained before, average loss"), again.Err);
        Assert.DoesNotContain("seed 2:", again.Out);
        Assert.Contains("average forgetting", again.Out);
        var rerun = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json"))).RootElement;
        Assert.Equal(results.GetProperty("summary").GetRawText(), rerun.GetProperty("summary").GetRawText());
        Assert.Contains("(trained before)", File.ReadAllText(Path.Combine(output, "report.md")));
    }

    [Fact]
    public async Task InfinitePlusAverageReleasesTheWeightAverageAtEachTaskEndBesideTheAnnealedInfinite()
    {
        var corpora = $"{Slice("english", 60)},{Slice("german", 60)}";
        var output = Path.Combine(silo.Data, "compare-average");
        var result = await Task.Run(() => Executables.Run(Executables.Client,
            $"compare --corpora {corpora} --schedules infinite,infinite+average --steps-per-task {StepsPerTask} --evaluate-every 0 " +
            $"--average-decay 0.8 --name with-average --out {output} --gateway {silo.Gateway}", TimeSpan.FromMinutes(5)));
        Assert.True(result.Code == 0, $"compare failed: {result.Err}\n{result.Out}\nsilo log:\n{silo.Log}");
        Assert.Contains("infinite+average", result.Out);

        var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json"))).RootElement;
        Assert.Equal(0.8, results.GetProperty("averageDecay").GetDouble());
        var average = results.GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("schedule").GetString() == "infinite+average");
        Assert.Equal(("with-average.infinite-average.seed1", "average", 0.8),
            (average.GetProperty("run").GetString(), average.GetProperty("taskRelease").GetString(), average.GetProperty("averageDecay").GetDouble()));
        // No branch: every step of a task is a main-trajectory step, and the task's release is the average at its end.
        var status = await Executables.WaitForRun(silo.Gateway, "with-average.infinite-average.seed1", _ => true);
        Assert.Equal(2 * StepsPerTask, status.GetProperty("step").GetInt64());
        Assert.All(status.GetProperty("releases").EnumerateArray(), r => Assert.Equal("average", r.GetProperty("mode").GetString()));
        Assert.Equal(0.8, status.GetProperty("average").GetProperty("decay").GetDouble());
        AssertMatrixIsTheStoredReleases("with-average", average);
        var report = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.Contains("| infinite+average |", report);
        Assert.Contains("| weight average (KIND+average) | decay 0.8 (half-life 3 steps) | --average-decay |", report);
    }

    /// <summary>Each row of the run's matrix is its release after that task, evaluated again here from the stored files.</summary>
    void AssertMatrixIsTheStoredReleases(string comparison, JsonElement run)
    {
        var matrix = run.GetProperty("matrix").EnumerateArray().ToList();
        Assert.Equal(2, matrix.Count);
        using var data = new StoredCorpora(Path.Combine(silo.Data), ValidationBlocks);
        foreach (var row in matrix)
        {
            var path = row.GetProperty("path").GetString()!;
            Assert.True(Directory.Exists(path), $"release {path} is not stored");
            var losses = row.GetProperty("loss").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetDouble());
            using var trainer = new ModelTrainer(Checkpoint.ReadManifest(path).Model, AdamWConfig.Default);
            trainer.Load(path);
            var separate = ValidationLoss.Of(trainer, losses.Keys.Select(label => $"{comparison}.{label}"), data);
            Assert.Equal(losses.Count, separate.Count);
            foreach (var (label, loss) in losses)
                Assert.Equal(loss, separate[$"{comparison}.{label}"], 5);
        }
        var task = matrix[0].GetProperty("task").GetString()!;
        var forgetting = run.GetProperty("forgetting").GetProperty(task).GetDouble();
        Assert.Equal(matrix[1].GetProperty("loss").GetProperty(task).GetDouble() - matrix[0].GetProperty("loss").GetProperty(task).GetDouble(), forgetting, 12);
    }

    [Fact]
    public void TooFewBlocksForTheStepsPerTaskIsOneLineBeforeAnythingTrains()
    {
        var corpora = $"{Slice("english", 60)},{Slice("german", 60)}";
        var result = Executables.Run(Executables.Client,
            $"compare --corpora {corpora} --steps-per-task 100000 --name too-long --out {Path.Combine(silo.Data, "too-long")} --gateway {silo.Gateway}");
        Assert.Equal(2, result.Code);
        var line = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("fewer than --steps-per-task", line);
        AssertNoRunHasCorpora("too-long.");
    }

    [Fact]
    public void ACorpusWithoutValidationIsOneLineBeforeAnythingTrains()
    {
        // One line just under two of the silo's blocks (4,097 byte tokens): two blocks to train, too few to hold one out.
        var tiny = Path.Combine(silo.Data, "compare-in", "tiny.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(tiny)!);
        File.WriteAllText(tiny, string.Concat(Enumerable.Range(0, 2000).Select(i => $"{i % 10} ab"))[..8000]);
        var result = Executables.Run(Executables.Client,
            $"compare --corpora {Slice("english", 60)},{tiny} --steps-per-task 2 --name no-validation --out {Path.Combine(silo.Data, "no-validation")} --gateway {silo.Gateway}");
        Assert.Equal(2, result.Code);
        var line = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"corpus tiny ({tiny}) cannot be compared: no validation split: corpus no-validation.tiny is one document of ", line);
        AssertNoRunHasCorpora("no-validation.");
    }

    /// <summary>Nothing was queued, so nothing trains: no run of the comparison has a corpus.</summary>
    void AssertNoRunHasCorpora(string comparisonPrefix)
    {
        var status = silo.Client("status --json");
        Assert.True(status.Code == 0, status.Err);
        Assert.DoesNotContain(JsonDocument.Parse(status.Out).RootElement.GetProperty("runs").EnumerateArray()
            .Where(r => r.GetProperty("corpora").GetArrayLength() > 0).Select(r => r.GetProperty("run").GetString()!),
            run => run.StartsWith(comparisonPrefix));
    }

    [Theory]
    [InlineData("--corpora {0}/missing.jsonl,{1} --steps-per-task 2", "corpus path not found")]
    [InlineData("--corpora {0} --steps-per-task 2", "at least two corpora")]
    [InlineData("--corpora {0},{1} --schedules infinite,sawtooth --steps-per-task 2", "unknown schedule kind 'sawtooth'")]
    [InlineData("--corpora {0},{1} --steps-per-task lots", "not a whole number")]
    [InlineData("--corpora {0},{1}", "--steps-per-task is required")]
    [InlineData("--corpora {0},{1} --steps-per-task 2 --anneal-fraction 1.5", "--anneal-fraction must be in [0, 1)")]
    [InlineData("--corpora {0},{1} --steps-per-task 40 --warmup 20 --cooldown 150", "cannot show its shape: give --cooldown at most 14")]
    public void BadArgumentsAreOneLine(string arguments, string expected)
    {
        var english = Slice("english", 5);
        var german = Slice("german", 5);
        var result = Executables.Run(Executables.Client,
            $"compare {string.Format(arguments, english, german)} --out {Path.Combine(silo.Data, "bad")} --gateway {silo.Gateway}");
        Assert.Equal(2, result.Code);
        Assert.Contains(expected, Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }
}
