using Streaming.Grains;
using Streaming.Grains.Persistence;

namespace Streaming.Integration.Tests.Persistence;

/// <summary>
/// The grain-state format: the state written by the version before it (Orleans' default JSON, with type names the
/// silo then refused to read back) reads; what is written reads back equal; what would not is refused at write.
/// </summary>
public sealed class GrainStateSerializerTests
{
    readonly GrainStateSerializer serializer = new();

    /// <summary>A row of the fixtures: grain state that `--demo` wrote before this format, its paths as {data} and {in}.</summary>
    public static string Legacy(string file, string data = "/data", string input = "/in") =>
        File.ReadAllText(Path.Combine(Executables.RepositoryRoot, "tests", "Integration.Tests", "Persistence", "Fixtures", "legacy", file))
            .Replace("{data}", data).Replace("{in}", input);

    T Read<T>(string json) => serializer.Deserialize<T>(BinaryData.FromString(json));

    [Fact]
    public void TheEvaluationsThatStoppedTheSiloRead()
    {
        var json = Legacy("evaluation.evaluator.demo.json");
        Assert.Contains("<>z__ReadOnlyList", json);   // the fixture is the failing JSON
        var state = Read<EvaluationState>(json);
        Assert.Equal(2, state.Done.Count);
        var first = state.Done[0].Snapshot;
        Assert.Equal(("/data/runs/demo/releases/en-step-00000013", "task-release", "en", 13L), (first.Path, first.Kind, first.Task, first.Step));
        Assert.Equal(["en"], state.Done[0].Snapshot.Corpora);
        Assert.Equal(["en", "de"], state.Done[1].Snapshot.Corpora);
        Assert.Equal(3.81557828276095, state.Done[0].Loss["en"]);
        Assert.Equal(3.149263384127915, state.Done[1].Loss["en"]);
        Assert.Equal(2.840490422361683, state.Done[1].Loss["de"]);
        Assert.Null(state.Done[1].Error);
        Assert.Empty(state.Pending);
    }

    [Fact]
    public void EveryOtherLegacyStateReads()
    {
        var run = Read<RunState>(Legacy("run.trainer.demo.json"));
        Assert.Equal([new CorpusInfo("en", "/in/en.jsonl", 13, 50_605), new CorpusInfo("de", "/in/de.jsonl", 20, 78_047)], run.Corpora);
        Assert.Equal("/data/runs/demo/checkpoints/step-00000033", run.Checkpoint);
        Assert.Equal("byte", run.Tokenizer);
        Assert.Null(run.Settings);
        Assert.Null(run.PendingAnnealSteps);
        Assert.Null(run.Order);   // a run from before runs could shuffle: it keeps the stored order

        var corpus = Read<CorpusState>(Legacy("corpus.corpus.de.json"));
        Assert.Equal(("/in/de.jsonl", 20L, 78_047L), (corpus.Source, corpus.Blocks, corpus.Tokens));
        Assert.Equal(["demo"], corpus.Runs);

        Assert.Equal(["demo"], Read<SortedSet<string>>(Legacy("runs.runregistry.0.json")));
    }

    [Fact]
    public void ASharedObjectThatTheOldFormatWroteOnceIsCopiedWhereItWasReferred()
    {
        var json = """
            {"$id":"1","$type":"Streaming.Grains.EvaluationState, Streaming.Grains","Done":{"$type":"List","$values":[
              {"$id":"2","Snapshot":{"$id":"3","Path":"/a","Kind":"main","Task":"t","Step":1,"Corpora":{"$type":"X","$values":["t"]}},"Loss":{"$id":"4","t":1.5}},
              {"$id":"5","Snapshot":{"$ref":"3"},"Loss":{"$ref":"4"},"Error":null}]},
             "Pending":{"$type":"List","$values":[{"$ref":"3"}]}}
            """;
        var state = Read<EvaluationState>(json);
        Assert.Equal("/a", state.Done[1].Snapshot.Path);
        Assert.Equal(["t"], state.Done[1].Snapshot.Corpora);
        Assert.Equal(1.5, state.Done[1].Loss["t"]);
        Assert.Equal("/a", Assert.Single(state.Pending).Path);
    }

    [Fact]
    public void EveryStateReadsBackAsWrittenWithoutTypeNames()
    {
        foreach (var (type, sample) in GrainStateSamples.ByType)
        {
            var json = (BinaryData)typeof(GrainStateSerializer).GetMethod(nameof(GrainStateSerializer.Serialize))!.MakeGenericMethod(type).Invoke(serializer, [sample])!;
            Assert.DoesNotContain("$type", json.ToString());
            Assert.DoesNotContain("z__", json.ToString());
            var back = typeof(GrainStateSerializer).GetMethod(nameof(GrainStateSerializer.Deserialize))!.MakeGenericMethod(type).Invoke(serializer, [json])!;
            Assert.Equivalent(sample, back, strict: true);
        }
    }

    /// <summary>A state whose member the reader cannot set.</summary>
    sealed class Lossy
    {
        public Lossy() { }

        public Lossy(int count) => Count = count;

        public int Count { get; private set; }
    }

    [Fact]
    public void AStateThatWouldNotReadBackIsRefusedWhenWrittenNotAtTheNextStart()
    {
        var error = Assert.Throws<UnreadableStateException>(() => serializer.Serialize(new Lossy(3)));
        Assert.Contains("Lossy does not read back as written", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("{\"Corpora\": 5}")]
    [InlineData("{\"Corpora\": [")]
    [InlineData("null")]
    public void DamagedStateIsOneLineThatNamesTheType(string json)
    {
        var error = Assert.Throws<UnreadableStateException>(() => Read<RunState>(json));
        Assert.StartsWith("RunState: ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
