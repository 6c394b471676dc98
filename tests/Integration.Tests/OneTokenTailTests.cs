using Streaming.Grains;
using Streaming.Schedules;
using Streaming.Training.Model;

namespace Streaming.Integration.Tests;

/// <summary>
/// A corpus whose train tokens leave one token after the last whole block: that token predicts nothing (a block needs an
/// input and a target), so it is neither a block to train nor a token to read. Found by bench/load.sh: one run of 300
/// ended at 7,998 of 7,999 tokens, waiting for ever for a token it could not read; a run whose blocks are the silo's size
/// failed on it ("a block needs at least two tokens").
/// </summary>
public sealed class OneTokenTailTests() : OneSiloCluster("one-token-tail")
{
    // The silo stores blocks of 256 rows of 4 tokens (+1), and its runs train them; a run with --batch-tokens 4 trains blocks
    // of 4 (+1). 1,026 train tokens (too few to hold any out for validation) are 1 x 1,025 + 1 and 205 x 5 + 1: a tail of
    // one token either way.
    const int TrainTokens = 1026;

    protected override void Configure(StreamingOptions o)
    {
        o.Model = new GptConfig(Layers: 1, Width: 16, Heads: 2, Context: 4, Vocabulary: 256);
        o.BlockTokens = 256 * 4 + 1;
        o.Schedule = new ScheduleConfig { Kind = "constant", ConstLr = 1e-3, MaxLr = 1e-3, WarmupSteps = 0 };
    }

    [Theory]
    [InlineData("silo-blocks", null, 1)]
    [InlineData("own-blocks", 4, 205)]
    public async Task ALastBlockOfOneTokenIsNeitherTrainedNorCounted(string run, int? batchTokens, int steps)
    {
        var text = await CorpusOfTrainTokensAsync(TrainTokens);
        var trainer = Cluster.Client.GetGrain<ITrainerGrain>(run);
        await trainer.ConfigureAsync(new RunSettings { BatchTokens = batchTokens });
        var ingested = await Cluster.Client.GetGrain<ICorpusGrain>("tail").IngestAsync(new IngestRequest(run, text));
        Assert.Equal(TrainTokens - 1, ingested.Tokens);

        await WaitFor(trainer, s => s.Step >= steps);
        await Task.Delay(TimeSpan.FromSeconds(1));   // time for a step too many, were there one
        var status = await WaitFor(trainer, _ => true);
        var corpus = status.Corpora.Single();
        Assert.Equal(steps, status.Step);
        Assert.Equal(TrainTokens - 1, corpus.TokensTotal);
        Assert.Equal(corpus.TokensTotal, corpus.TokensRead);
    }

    /// <summary>A one-paragraph text file whose byte tokens, stored whole (too small to hold any out for validation), are
    /// <paramref name="tokens"/>: the tokens a paragraph adds beside its bytes are learned from a probe stored without a run.</summary>
    async Task<string> CorpusOfTrainTokensAsync(int tokens)
    {
        var probe = Path.Combine(Data, "probe.txt");
        await File.WriteAllTextAsync(probe, new string('p', 40));
        var probed = await Cluster.Client.GetGrain<ICorpusGrain>("probe").IngestAsync(new IngestRequest(null, probe));
        Assert.NotNull(probed.NoValidation);
        var text = Path.Combine(Data, "tail.txt");
        await File.WriteAllTextAsync(text, string.Concat(Enumerable.Range(0, (int)(tokens - (probed.Tokens - 40))).Select(i => (char)('a' + i % 26))));
        return text;
    }
}
