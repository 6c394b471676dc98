using Streaming.Grains;
using Streaming.Schedules;
using Streaming.Training.Data;
using Streaming.Training.Model;

namespace Streaming.Integration.Tests;

/// <summary>
/// A silo with corpus roots reads only paths inside them, symbolic links resolved: a path outside, a link inside that
/// points out, and a folder inside holding such a link are each refused in one line before anything is read.
/// </summary>
public sealed class CorpusRootsTests() : OneSiloCluster("corpus-roots")
{
    protected override void Configure(StreamingOptions o)
    {
        o.Model = new GptConfig(Layers: 1, Width: 32, Heads: 2, Context: 32, Vocabulary: 256);
        o.BlockTokens = 4 * 32 + 1;
        o.Schedule = new ScheduleConfig { Kind = "infinite", MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 4, AnnealFraction = 0.25 };
        o.CorpusRoots = [Root, OtherRoot];
    }

    string Root => Path.Combine(Data, "incoming");
    string OtherRoot => Path.Combine(Data, "shared");
    string Roots => $"{Root}, {OtherRoot}";

    /// <summary>A few lines of the English sample at <paramref name="path"/> (folders made as needed).</summary>
    static async Task<string> Sample(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllLinesAsync(path, (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Take(5));
        return path;
    }

    Task<IngestResult> Ingest(string corpus, string path) => Cluster.Client.GetGrain<ICorpusGrain>(corpus).IngestAsync(new IngestRequest(null, path));

    async Task AssertRefused(string corpus, string path, string outside)
    {
        var refused = await Assert.ThrowsAsync<IngestFailedException>(() => Ingest(corpus, path));
        Assert.Equal($"'{outside}' is outside the silo's corpus roots ({Roots})", refused.Message);
        Assert.False(Directory.Exists(BlockStore.CorpusDirectory(Data, corpus)));
    }

    [Fact]
    public async Task PathsInsideARootAreReadAndOthersRefused()
    {
        var inside = await Sample(Path.Combine(Root, "english.jsonl"));
        var inOther = await Sample(Path.Combine(OtherRoot, "deep", "english.jsonl"));
        var outside = await Sample(Path.Combine(Data, "private", "english.jsonl"));

        Assert.True((await Ingest("inside", inside)).Tokens > 0);
        Assert.True((await Ingest("in-other", inOther)).Tokens > 0);
        await AssertRefused("outside", outside, outside);
        // Written to look inside, resolved outside.
        var dotted = Path.Combine(Root, "..", "private", "english.jsonl");
        await AssertRefused("dotted", dotted, dotted);
        await AssertRefused("system", "/etc/passwd", "/etc/passwd");
        // A root's name as a prefix is not the root.
        var lookalike = await Sample(Root + "-not/english.jsonl");
        await AssertRefused("lookalike", lookalike, lookalike);
    }

    [Fact]
    public async Task ALinkInsideARootThatPointsOutIsRefused()
    {
        var outside = await Sample(Path.Combine(Data, "private", "english.jsonl"));
        Directory.CreateDirectory(Root);
        var link = Path.Combine(Root, "english.jsonl");
        File.CreateSymbolicLink(link, outside);
        await AssertRefused("link", link, link);

        // A folder inside whose files include such a link: refused, naming the link.
        var folder = Path.Combine(Root, "folder");
        await Sample(Path.Combine(folder, "a.jsonl"));
        var escaping = Path.Combine(folder, "b.jsonl");
        File.CreateSymbolicLink(escaping, outside);
        await AssertRefused("folder", folder, escaping);

        // A link that stays inside the roots is fine.
        var inside = await Sample(Path.Combine(OtherRoot, "english.jsonl"));
        var staying = Path.Combine(Root, "staying.jsonl");
        File.CreateSymbolicLink(staying, inside);
        Assert.True((await Ingest("staying", staying)).Tokens > 0);
    }

    [Fact]
    public async Task PretrainedWeightsOutsideTheRootsAreRefusedBeforeAnythingIsRead()
    {
        Task<string> Create(string run, string init) => Cluster.Client.GetGrain<ITrainerGrain>(run).ConfigureAsync(new RunSettings { Init = init });
        async Task AssertRefused(string run, string init, string outside) =>
            Assert.Equal($"--init: '{outside}' is outside the silo's corpus roots ({Roots})", (await Assert.ThrowsAnyAsync<Exception>(() => Create(run, init))).Message);

        var outside = Path.Combine(Data, "private", "gpt2");
        Directory.CreateDirectory(outside);
        await File.WriteAllTextAsync(Path.Combine(outside, "config.json"), "{}");
        await AssertRefused("init-outside", outside, outside);
        var dotted = Path.Combine(Root, "..", "private", "gpt2");
        await AssertRefused("init-dotted", dotted, dotted);
        // A folder inside whose config.json is a link that points out: refused, naming the link.
        var linked = Path.Combine(Root, "gpt2");
        Directory.CreateDirectory(linked);
        File.CreateSymbolicLink(Path.Combine(linked, "config.json"), Path.Combine(outside, "config.json"));
        await AssertRefused("init-linked", linked, Path.Combine(linked, "config.json"));
        // A link to the whole folder, placed inside.
        var folderLink = Path.Combine(Root, "gpt2-link");
        Directory.CreateSymbolicLink(folderLink, outside);
        await AssertRefused("init-folder-link", folderLink, folderLink);

        // Inside the roots the folder is read: this one has no weights, which is the next thing said.
        var inside = Path.Combine(OtherRoot, "empty-model");
        Directory.CreateDirectory(inside);
        var read = await Assert.ThrowsAnyAsync<Exception>(() => Create("init-inside", inside));
        Assert.StartsWith("--init: ", read.Message);
        Assert.DoesNotContain("corpus roots", read.Message);
    }

    [Fact]
    public void WithoutRootsAnyPathMayBeRead()
    {
        Assert.Null(CorpusRoots.Refusal("/etc/passwd", []));
        Assert.NotNull(CorpusRoots.Refusal("/etc/passwd", [Root]));
    }
}
