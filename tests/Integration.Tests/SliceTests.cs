using Streaming.Grains;
using Streaming.Training.Data;
using Streaming.Training.Model;
using Streaming.Schedules;

namespace Streaming.Integration.Tests;

/// <summary>Real text through the whole slice: corpus grain, memory stream, trainer grain, training thread.</summary>
public sealed class SliceTests() : OneSiloCluster("slice")
{
    protected override void Configure(StreamingOptions o)
    {
        o.Model = new GptConfig(Layers: 2, Width: 64, Heads: 2, Context: 64, Vocabulary: 256);
        o.BlockTokens = 16 * 64 + 1;
        o.Schedule = new ScheduleConfig { Kind = "constant", ConstLr = 3e-3, MaxLr = 3e-3, WarmupSteps = 0 };
    }

    [Fact]
    public async Task StepsRiseAndLossFallsOnRealText()
    {
        var text = Path.Combine(Data, "english.txt");
        var lines = await File.ReadAllLinesAsync(SampleCorpora.File("english"));
        await File.WriteAllLinesAsync(text.Replace(".txt", ".jsonl"), lines.Take(12));
        text = text.Replace(".txt", ".jsonl");
        var corpus = await Cluster.Client.GetGrain<ICorpusGrain>("english").IngestAsync(new IngestRequest("slice", text));
        Assert.True(corpus.Blocks > 30);

        var trainer = Cluster.Client.GetGrain<ITrainerGrain>("slice");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        RunStatus status;
        do
        {
            await Task.Delay(500);
            status = await trainer.GetStatusAsync();
            Assert.DoesNotContain("failed", status.Phase);
        }
        while ((status.Corpora.Single().TokensRead < corpus.Tokens || status.Evaluations.Count == 0) && DateTime.UtcNow < deadline);

        Assert.Equal(corpus.Tokens, status.Corpora.Single().TokensRead);
        Assert.Equal(corpus.Blocks, status.Step);
        Assert.True(status.Loss < status.FirstLoss - 1.0, $"loss fell only from {status.FirstLoss} to {status.Loss}");
        var evaluation = Assert.Single(status.Evaluations);
        Assert.Equal("english", evaluation.AfterTask);
        Assert.InRange(evaluation.Loss["english"], 0.5, status.FirstLoss - 1.0);
    }
}
