using Streaming.Grains;
using Streaming.Training.Data;
using Streaming.Training.Model;
using Streaming.Schedules;

namespace Streaming.Integration.Tests;

/// <summary>One corpus feeding several runs (as `streaming compare` trains them): stored and tokenized once, trained in
/// full by each run, with the tokenizer it was stored with; refusals in one line that leave it on its other runs.</summary>
public sealed class CorpusSharingTests() : OneSiloCluster("corpus-sharing")
{
    protected override void Configure(StreamingOptions o) => UseTinyInfiniteRun(o);

    [Fact]
    public async Task OneCorpusTrainsInFullOnTwoRuns()
    {
        var text = Path.Combine(Data, "english.jsonl");
        await File.WriteAllLinesAsync(text, (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Take(3));
        var corpus = Cluster.Client.GetGrain<ICorpusGrain>("english");
        var first = await corpus.IngestAsync(new IngestRequest("seed-1", text));
        var stored = Path.Combine(BlockStore.CorpusDirectory(Data, "english"), CorpusIngestor.TrainFile);
        var written = File.GetLastWriteTimeUtc(stored);

        // Another tokenizer than the stored blocks' is refused in one line, and changes nothing.
        var asked = await Assert.ThrowsAsync<IngestFailedException>(() => corpus.IngestAsync(new IngestRequest("seed-2", text, "cl100k_base")));
        Assert.Equal("corpus 'english' is stored with the byte tokenizer; run 'seed-2' uses cl100k_base: " +
            "ingest the source under another --name to tokenize it with cl100k_base", asked.Message);

        // The same source on a second run: the stored corpus is attached as it is, not tokenized again.
        var second = await corpus.IngestAsync(new IngestRequest("seed-2", text));
        Assert.False(second.AlreadyQueued);
        Assert.Equal((first.Blocks, first.Tokens, first.ValidationTokens, first.Documents), (second.Blocks, second.Tokens, second.ValidationTokens, second.Documents));
        Assert.Equal(written, File.GetLastWriteTimeUtc(stored));
        Assert.True((await corpus.IngestAsync(new IngestRequest("seed-1", text))).AlreadyQueued);

        // A run whose first corpus fixed another tokenizer cannot take it; the corpus stays on its two runs.
        var other = Path.Combine(Data, "other.txt");
        await File.WriteAllTextAsync(other, "Ein kurzer Text.");
        await Cluster.Client.GetGrain<ICorpusGrain>("other").IngestAsync(new IngestRequest("tiktoken", other, "cl100k_base"));
        var fixedByRun = await Assert.ThrowsAsync<IngestFailedException>(() => corpus.IngestAsync(new IngestRequest("tiktoken", text)));
        Assert.Equal("corpus 'english' is stored with the byte tokenizer; run 'tiktoken' uses cl100k_base: " +
            "ingest the source under another --name to tokenize it with cl100k_base", fixedByRun.Message);
        Assert.True((await corpus.IngestAsync(new IngestRequest("seed-2", text))).AlreadyQueued);

        // Another source under the name is still refused, naming the runs it feeds.
        var refused = await Assert.ThrowsAsync<IngestFailedException>(() => corpus.IngestAsync(new IngestRequest("seed-3", other)));
        Assert.Equal($"corpus name 'english' is already used (for {text} on runs seed-1, seed-2); choose another --name", refused.Message);

        foreach (var run in new[] { "seed-1", "seed-2" })
        {
            var status = await WaitUntilTrained(Cluster.Client.GetGrain<ITrainerGrain>(run));
            Assert.Equal("byte", status.Tokenizer);
            var trained = Assert.Single(status.Corpora);
            Assert.Equal(first.Tokens, trained.TokensTotal);
            Assert.Equal(first.Tokens, trained.TokensRead);
        }
    }

    static async Task<RunStatus> WaitUntilTrained(ITrainerGrain trainer)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var status = await trainer.GetStatusAsync();
            Assert.DoesNotContain("failed", status.Phase);
            if (status.Corpora.All(c => c.TokensRead == c.TokensTotal)) return status;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"run {status.Run} stuck at step {status.Step}");
            await Task.Delay(200);
        }
    }
}
