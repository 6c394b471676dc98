using Streaming.Grains;
using Streaming.Training.Data;
using Streaming.Training.Loop;
using Streaming.Training.Model;
using Streaming.Schedules;

namespace Streaming.Integration.Tests;

/// <summary>An on-demand release through the trainer grain while the run trains on, with exact token counts after it.</summary>
public sealed class AnnealTests() : OneSiloCluster("anneal")
{
    protected override void Configure(StreamingOptions o)
    {
        o.Model = new GptConfig(Layers: 1, Width: 32, Heads: 2, Context: 32, Vocabulary: 256);
        o.BlockTokens = 4 * 32 + 1;
        o.CheckpointEvery = 5;
        o.Schedule = new ScheduleConfig { Kind = "infinite", MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 4 };
    }

    [Fact]
    public async Task OnDemandAnnealYieldsAnEvaluatedReleaseAndLosesNoToken()
    {
        var trainer = Cluster.Client.GetGrain<ITrainerGrain>("anneal");
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => trainer.AnnealAsync(3));
        Assert.Contains("no corpora yet", refused.Message);

        var text = Path.Combine(Data, "english.jsonl");
        await File.WriteAllLinesAsync(text, (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Take(6));
        var corpus = await Cluster.Client.GetGrain<ICorpusGrain>("english").IngestAsync(new IngestRequest("anneal", text));
        Assert.True(corpus.Blocks > 60, $"only {corpus.Blocks} blocks");

        await Assert.ThrowsAsync<ArgumentException>(() => trainer.AnnealAsync(0));
        var tooLong = await Assert.ThrowsAsync<InvalidOperationException>(() => trainer.AnnealAsync((int)corpus.Blocks + 1));
        Assert.Contains("left to train", tooLong.Message);

        await WaitFor(trainer, s => s.Step >= 5);
        var ticket = await trainer.AnnealAsync(4);
        Assert.Equal(1, ticket.Id);
        var twice = await Assert.ThrowsAsync<InvalidOperationException>(() => trainer.AnnealAsync(4));
        Assert.Contains("already has an on-demand anneal", twice.Message);

        var status = await WaitFor(trainer, s => s.Corpora[0].TokensRead == corpus.Tokens && s.Evaluations.Count == 1 && s.PendingAnnealSteps is null);
        // The on-demand release, then the task's end (this run has no paper-protocol branches) as the task's release.
        Assert.Equal(["on-demand", "task-end"], status.Releases.Select(r => r.Mode));
        var release = status.Releases[0];
        Assert.True(Directory.Exists(release.Path), release.Path);
        Assert.Equal(status.Releases[1].Path, status.LastRelease);
        Assert.InRange(release.Loss["english"], 0.5, status.FirstLoss);
        // Every block trained once on the main trajectory: the branch's four were trained again after it.
        Assert.Equal(corpus.Blocks, status.Step);
        Assert.Null(status.Branch);
    }
}
