using Orleans.Runtime;
using Streaming.Grains;
using Streaming.Training.Data;
using Streaming.Training.Model;
using Streaming.Schedules;

namespace Streaming.Integration.Tests;

/// <summary>A run with nothing left to train holds no model in memory, reports what it did from its last checkpoint
/// (also after its activation is gone), and goes on from that checkpoint when a new corpus comes.</summary>
public sealed class FinishedRunTests() : OneSiloCluster("finished-run")
{
    protected override void Configure(StreamingOptions o)
    {
        UseTinyInfiniteRun(o);
        o.FinishedRunKeptFor = TimeSpan.Zero;
    }

    [Fact]
    public async Task AFinishedRunLetsGoOfItsModelAndResumesForANewCorpus()
    {
        var lines = await File.ReadAllLinesAsync(SampleCorpora.File("english"));
        var first = Path.Combine(Data, "first.jsonl");
        var second = Path.Combine(Data, "second.jsonl");
        await File.WriteAllLinesAsync(first, lines.Take(3));
        await File.WriteAllLinesAsync(second, lines.Skip(3).Take(3));
        var trainer = Cluster.Client.GetGrain<ITrainerGrain>("done");
        await Cluster.Client.GetGrain<ICorpusGrain>("first").IngestAsync(new IngestRequest("done", first));

        var trained = await WaitFor(trainer, s => !s.ModelInMemory && s.Corpora.All(c => c.TokensRead == c.TokensTotal));
        Assert.True(trained.Step > 0);
        Assert.NotEmpty(trained.Releases);

        // A new activation of the finished run answers from its checkpoint, without loading the model.
        await Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var again = await trainer.GetStatusAsync();
        Assert.False(again.ModelInMemory);
        Assert.Equal((trained.Step, trained.Lr, trained.Phase, trained.LastCheckpoint), (again.Step, again.Lr, again.Phase, again.LastCheckpoint));
        Assert.Equal(trained.Corpora, again.Corpora);
        Assert.Equal(trained.Releases.Select(r => r.Path), again.Releases.Select(r => r.Path));

        // A new corpus: training goes on from the last checkpoint, not from the start.
        await Cluster.Client.GetGrain<ICorpusGrain>("second").IngestAsync(new IngestRequest("done", second));
        var both = await WaitFor(trainer, s => !s.ModelInMemory && s.Corpora.Count == 2 && s.Corpora.All(c => c.TokensRead == c.TokensTotal));
        // The main trajectory took one step per full block of the new corpus it trained (its last blocks train only the anneal branch).
        Assert.Equal(trained.Step + both.Corpora[1].TokensTrained / (4 * 32 + 1), both.Step);
        Assert.Equal(trained.Releases.Select(r => r.Path), both.Releases.Take(trained.Releases.Count).Select(r => r.Path));
        Assert.Equal(trained.Corpora[0], both.Corpora[0]);
    }
}
