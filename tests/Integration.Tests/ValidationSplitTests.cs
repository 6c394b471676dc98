using System.Text.Json;
using Streaming.Training.Data;

namespace Streaming.Integration.Tests;

/// <summary>
/// Every corpus is evaluable, however its text is laid out: one long line, ingested through the CLI on a real silo,
/// gets validation losses in `streaming eval`; a corpus too small to hold anything out is said so by ingest, eval and status.
/// </summary>
public sealed class ValidationSplitTests(IngestSilo silo) : IClassFixture<IngestSilo>
{
    const string TooSmallRun = "too-small-run";

    /// <summary>The sample English text as one line of <paramref name="characters"/> characters: one document, no blank line.</summary>
    string OneLine(int characters)
    {
        var path = Path.Combine(silo.Data, "one-line-in", "one-line.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var text = string.Join(" ", new CorpusReader(SampleCorpora.File("english")).ReadDocuments(new SkipCounts())
            .Select(d => d.Text.ReplaceLineEndings(" ")));
        File.WriteAllText(path, text[..characters]);
        return path;
    }

    /// <summary>Ingests one short sentence, a corpus of one document too small to hold out a block, on <see cref="TooSmallRun"/>.</summary>
    (int Code, string Out, string Err) IngestTooSmall()
    {
        var path = Path.Combine(silo.Data, "too-small-in", "too-small.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "Ein einziger kurzer Satz.");
        return silo.Client($"ingest --run {TooSmallRun} --progress never {path}");
    }

    [Fact]
    public async Task AOneLineCorpusGetsValidationLossesInEval()
    {
        var ingest = silo.Client($"ingest --run one-line-run --progress never {OneLine(20_000)}");
        Assert.True(ingest.Code == 0, ingest.Err);
        Assert.DoesNotContain("no validation split", ingest.Out);

        await silo.WaitUntilTrained();
        var eval = silo.Client("eval --run one-line-run --json");
        Assert.True(eval.Code == 0, eval.Err);
        var report = JsonDocument.Parse(eval.Out).RootElement;
        var loss = report.GetProperty("matrix").EnumerateArray().Last().GetProperty("loss").GetProperty("one-line").GetDouble();
        Assert.True(double.IsFinite(loss) && loss > 0, $"loss {loss}");
        Assert.Empty(report.GetProperty("noValidation").EnumerateObject());
    }

    [Fact]
    public void IngestSaysWhyATooSmallCorpusHasNoValidation()
    {
        var (code, stdout, stderr) = IngestTooSmall();
        Assert.True(code == 0, stderr);
        var line = Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("0 to validate, from 1 document; no validation split: corpus too-small is one document of ", line);
    }

    [Fact]
    public void EvalExplainsACorpusWithoutValidation()
    {
        Assert.Equal(0, IngestTooSmall().Code);
        var text = silo.Client($"eval --run {TooSmallRun}");
        Assert.True(text.Code == 0, text.Err);
        Assert.Contains("no validation split: corpus too-small is one document of ", text.Out);

        var json = silo.Client($"eval --run {TooSmallRun} --json");
        Assert.True(json.Code == 0, json.Err);
        Assert.StartsWith("no validation split: corpus too-small ",
            JsonDocument.Parse(json.Out).RootElement.GetProperty("noValidation").GetProperty("too-small").GetString());
    }

    [Fact]
    public async Task EvalPlotsARunWhoseCorporaHaveNoValidationLoss()
    {
        Assert.Equal(0, IngestTooSmall().Code);
        await silo.WaitUntilTrained();
        var folder = Path.Combine(silo.Data, "too-small-plots");
        var plot = silo.Client($"eval --run {TooSmallRun} --plot {folder}");
        Assert.True(plot.Code == 0, plot.Err);
        Assert.True(File.Exists(Path.Combine(folder, "validation-loss.png")), plot.Err);
    }

    [Fact]
    public void StatusExplainsACorpusWithoutValidation()
    {
        Assert.Equal(0, IngestTooSmall().Code);
        var text = silo.Client($"status --run {TooSmallRun}");
        Assert.True(text.Code == 0, text.Err);
        Assert.Contains($"{TooSmallRun}: no validation split: corpus too-small is one document of ", text.Out);

        var json = silo.Client($"status --run {TooSmallRun} --json");
        Assert.True(json.Code == 0, json.Err);
        var run = JsonDocument.Parse(json.Out).RootElement.GetProperty("runs")[0];
        Assert.StartsWith("no validation split: corpus too-small ", run.GetProperty("noValidation").GetProperty("too-small").GetString());
        Assert.Equal(TooSmallRun, run.GetProperty("run").GetString());
    }
}
