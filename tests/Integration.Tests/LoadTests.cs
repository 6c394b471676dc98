using Streaming.Grains;
using Streaming.Load;
using Xunit.Abstractions;

namespace Streaming.Integration.Tests;

/// <summary>bench/load.sh's short version, in two rounds: 4 runs, 12 uploaded corpora queued 3 a run, status polled 50 times a second while they
/// train. No call may fail, 99% must answer within 5 s (generous: on the shared 2-core development machine at a load average of
/// about 45 it measured 2.7 s, the slowest calls in the first seconds, while ingests and warm-up compete), every token must be trained exactly
/// once in its run, and every finished run must let go of its model, the silo's memory coming back to within 256 MiB of where
/// it was before training (the test host's memory: the silo runs in it).</summary>
[Collection(LoadCollection.Name)]
public sealed class LoadTests(ITestOutputHelper output) : OneSiloCluster("load")
{
    protected override void Configure(StreamingOptions o) => o.FinishedRunKeptFor = TimeSpan.Zero;

    [Fact]
    public async Task ManyRunsTrainEveryTokenOnceWhileStatusAnswersAndThenLetGoOfTheirModels()
    {
        var settings = new LoadSettings
        {
            Runs = 4, Ingests = 12, StatusHz = 50, CorpusBytes = 4 * 1024, Limit = TimeSpan.FromMinutes(3),
            P99Limit = TimeSpan.FromSeconds(5), GrowthLimitBytes = 256L << 20,
        };
        // Two rounds on the same silo: the second's runs and corpora are new, and must fare as the first's did.
        var reports = await LoadDriver.RunRoundsAsync(Cluster.Client, settings, Environment.ProcessId, rounds: 2);
        var printed = new StringWriter();
        foreach (var report in reports) report.Print(printed);
        printed.WriteLine(LoadReport.MemoryAcrossRounds(reports));
        output.WriteLine(printed.ToString());

        Assert.Equal(["load-00", "load2-00"], reports.Select(r => r.Final[0].Run));
        foreach (var report in reports)
        {
            Assert.Empty(report.Problems);
            Assert.Equal(12, report.Ingests.Count(i => i.Error is null));
            Assert.Equal(report.Ingests.Sum(i => i.Tokens), report.TokensRead);
            Assert.All(report.Final, f => Assert.Equal(3, f.Status!.Corpora.Count));
            Assert.Equal(0, report.ModelsInMemory);
            Assert.True(report.Calls.Count > 50, $"only {report.Calls.Count} status calls");
            Assert.Equal(0, report.FailedCalls);
        }
        Assert.Empty(reports[0].Ingests.Select(i => i.Corpus).Intersect(reports[1].Ingests.Select(i => i.Corpus)));
    }
}
