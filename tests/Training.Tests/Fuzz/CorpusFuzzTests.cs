using CsCheck;
using Xunit.Abstractions;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// Generated corpora through the real ingest (<see cref="CorpusCheck"/>): each generator's cases (1,000, or
/// STREAMING_FUZZ_CASES) must each end in a consistent stored corpus or one <c>CorpusFormatException</c> line, within
/// the per-case timeout, and the run's peak working set must grow by less than <see cref="FuzzCollection.GrowthBound"/>.
/// </summary>
[Collection(FuzzCollection.Name)]
public class CorpusFuzzTests(ITestOutputHelper output)
{
    public static TheoryData<string> Generators => [.. CorpusGenerators.Keys];

    private static readonly Dictionary<string, Gen<CorpusCase>> CorpusGenerators = new()
    {
        ["random-bytes"] = RandomBytesGen.Cases,
        ["text"] = TextCorpusGen.Cases,
        ["jsonl"] = JsonLinesCorpusGen.Cases,
        ["damaged-compression"] = DamagedCompressionGen.Cases,
        ["compression-bomb"] = CompressionBombGen.Cases,
        ["parquet"] = ParquetCorpusGen.Cases,
        ["folders"] = FolderCorpusGen.Cases,
    };

    [Theory]
    [MemberData(nameof(Generators))]
    public void Every_generated_corpus_is_stored_consistently_or_refused_in_one_line(string generator)
    {
        var run = new FuzzRun($"corpus {generator}", output);
        run.Sample(CorpusGenerators[generator], CorpusCheck.Run, c => c.ToString());
        Assert.True(run.GrowthBytes < FuzzCollection.GrowthBound, $"peak working set grew by {run.GrowthBytes >> 20} MiB");
    }
}
