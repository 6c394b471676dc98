using System.IO.Compression;
using Streaming.Grains;
using Streaming.Schedules;
using Streaming.Training.Data;
using Streaming.Training.Model;

namespace Streaming.Integration.Tests;

/// <summary>
/// The same text ingested again under another name on a run is refused in one line unless allowed; the same name
/// again stays a no-op; documents that other corpora of the run hold too are counted in the ingest's result.
/// </summary>
public sealed class DuplicateTextTests() : OneSiloCluster("duplicate-text")
{
    protected override void Configure(StreamingOptions o)
    {
        o.Model = new GptConfig(Layers: 1, Width: 32, Heads: 2, Context: 32, Vocabulary: 256);
        o.BlockTokens = 4 * 32 + 1;
        o.Schedule = new ScheduleConfig { Kind = "infinite", MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 4, AnnealFraction = 0.25 };
    }

    /// <summary>Lines <paramref name="from"/> .. <paramref name="from"/> + <paramref name="count"/> - 1 of the English sample, one document each.</summary>
    async Task<string> Sample(string name, int from, int count, params int[] again)
    {
        var lines = (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).ToList();
        var path = Path.Combine(Data, name);
        await File.WriteAllLinesAsync(path, [.. lines.Skip(from).Take(count), .. again.Select(i => lines[i])]);
        return path;
    }

    Task<IngestResult> Ingest(string corpus, IngestRequest request) => Cluster.Client.GetGrain<ICorpusGrain>(corpus).IngestAsync(request);

    [Fact]
    public async Task TheSameTextUnderAnotherNameIsRefusedUnlessAllowed()
    {
        var text = await Sample("english.jsonl", 0, 20);
        var first = await Ingest("english", new IngestRequest("dup", text));
        // The same text, compressed: the same content hash.
        var packed = Path.Combine(Data, "english-again.jsonl.gz");
        await using (var output = File.Create(packed))
        await using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
            await gzip.WriteAsync(await File.ReadAllBytesAsync(text));

        var refused = await Assert.ThrowsAsync<IngestFailedException>(() => Ingest("english-again", new IngestRequest("dup", packed)));
        Assert.Equal("run 'dup' already has this text as corpus 'english' (same content hash); use --allow-duplicate to train it again", refused.Message);
        Assert.False(Directory.Exists(BlockStore.CorpusDirectory(Data, "english-again")));
        Assert.Equal(["english"], (await Cluster.Client.GetGrain<ITrainerGrain>("dup").GetStatusAsync()).Corpora.Select(c => c.Name));

        var allowed = await Ingest("english-again", new IngestRequest("dup", packed, AllowDuplicate: true));
        Assert.False(allowed.AlreadyQueued);
        Assert.Equal((first.Tokens, first.Documents), (allowed.Tokens, allowed.Documents));
        Assert.Equal([new SharedDocuments("english", 20)], allowed.AlsoIn);
        Assert.EndsWith("; 20 documents also in corpus english of this run", allowed.Describe());

        // The same name and source again stays a no-op beside the copy that was let in.
        var again = await Ingest("english", new IngestRequest("dup", text));
        Assert.True(again.AlreadyQueued);
        Assert.Equal(["english", "english-again"], (await Cluster.Client.GetGrain<ITrainerGrain>("dup").GetStatusAsync()).Corpora.Select(c => c.Name));
    }

    [Fact]
    public async Task DocumentsAlsoInOtherCorporaOfTheRunAreCounted()
    {
        await Ingest("first", new IngestRequest("overlap", await Sample("first.jsonl", 0, 10)));
        await Ingest("second", new IngestRequest("overlap", await Sample("second.jsonl", 20, 10)));

        // Lines 5-9 are in the first corpus (line 7 twice here), 25-26 in the second, 40-44 in neither.
        var third = await Ingest("third", new IngestRequest("overlap", await Sample("third.jsonl", 5, 5, 7, 25, 26, 40, 41, 42, 43, 44)));
        var fresh = await Ingest("fresh", new IngestRequest("overlap", await Sample("fresh.jsonl", 60, 5)));

        Assert.Equal([new SharedDocuments("first", 6), new SharedDocuments("second", 2)], third.AlsoIn);
        Assert.EndsWith("; 6 documents also in corpus first of this run; 2 documents also in corpus second of this run", third.Describe());
        Assert.Empty(fresh.AlsoIn!);
        Assert.DoesNotContain("also in", fresh.Describe());
    }
}
