using System.Diagnostics;
using Streaming.Grains;
using Streaming.Training.Model;
using Streaming.Schedules;
using Xunit.Abstractions;

namespace Streaming.Integration.Tests;

/// <summary>
/// Ingests that touch a run while it trains: the same source again, the training corpus attached to another run, and
/// another stored corpus attached to the run. Each returns in seconds and training keeps stepping meanwhile. (When the
/// trainer's pump asked the corpus grain itself for blocks, it waited behind the corpus' ingest, which waited on the
/// trainer: the re-ingest took 30-31 s, Orleans' response timeout, sometimes failing with it, and training made no
/// step for 30 s; the attach to another run stalled whenever the pump asked for blocks while it read the source.)
/// </summary>
public sealed class ReingestWhileTrainingTests(ITestOutputHelper output) : OneSiloCluster("reingest")
{
    const string Run = "busy";

    protected override void Configure(StreamingOptions o)
    {
        o.Model = new GptConfig(Layers: 1, Width: 32, Heads: 2, Context: 32, Vocabulary: 256);
        o.BlockTokens = 4 * 32 + 1;
        o.Schedule = new ScheduleConfig { Kind = "infinite", MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 4, AnnealFraction = 0.25 };
        o.EvaluateEvery = 0;
        o.CheckpointEvery = 1000;
    }

    [Fact]
    public async Task IngestsOnATrainingRunReturnInSecondsAndTrainingKeepsStepping()
    {
        // About 64 MB of bytes: hundreds of thousands of blocks, far more than the test lets the run train, and a source
        // that takes a second or more to read again.
        var big = IngestSilo.WriteParagraphs(Path.Combine(Data, "big.txt"), 64L << 20);
        var other = IngestSilo.WriteParagraphs(Path.Combine(Data, "other.txt"), 1L << 20);
        await Cluster.Client.GetGrain<ICorpusGrain>("other").IngestAsync(new IngestRequest(null, other));
        await Cluster.Client.GetGrain<ITrainerGrain>("second").ConfigureAsync(new RunSettings { TaskSteps = 10 });
        var corpus = Cluster.Client.GetGrain<ICorpusGrain>("big");
        await corpus.IngestAsync(new IngestRequest(Run, big));

        var trainer = Cluster.Client.GetGrain<ITrainerGrain>(Run);
        var clock = Stopwatch.StartNew();
        var steps = new List<(TimeSpan At, long Step)>();
        using var stop = new CancellationTokenSource();
        var watch = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var status = await trainer.GetStatusAsync();
                Assert.DoesNotContain("failed", status.Phase);
                lock (steps) steps.Add((clock.Elapsed, status.Step));
                await Task.Delay(100);
            }
        });
        while (Last(steps).Step < 20)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"the run did not start training: {Last(steps)}");
            Assert.False(watch.IsCompleted, "the status poll ended");
            await Task.Delay(100);
        }

        var reingest = await Timed("re-ingest of the training corpus", () => corpus.IngestAsync(new IngestRequest(Run, big)));
        var attachElsewhere = await Timed("attach of the training corpus to another run", () => corpus.IngestAsync(new IngestRequest("second", big)));
        var attachHere = await Timed("attach of another stored corpus to the run", () => Cluster.Client.GetGrain<ICorpusGrain>("other").IngestAsync(new IngestRequest(Run, other)));
        await Task.Delay(1000);
        stop.Cancel();
        await watch;

        foreach (var (what, outcome, took, gap) in new[] { reingest, attachElsewhere, attachHere })
        {
            Assert.DoesNotContain("failed", outcome);
            // Before: 30 s (the re-ingest) against bounds of half that, so a loaded machine does not fail it.
            Assert.True(took < TimeSpan.FromSeconds(15), $"{what} took {took.TotalSeconds:F1} s");
            Assert.True(gap < TimeSpan.FromSeconds(15), $"training made no step for {gap.TotalSeconds:F1} s during the {what}");
        }
        Assert.Contains((await trainer.GetStatusAsync()).Corpora, c => c.Name == "other");

        async Task<(string What, string Outcome, TimeSpan Took, TimeSpan Gap)> Timed(string what, Func<Task<IngestResult>> ingest)
        {
            var start = clock.Elapsed;
            string outcome;
            try
            {
                var result = await ingest();
                outcome = result.AlreadyQueued ? "already queued" : "queued";
            }
            catch (Exception e)
            {
                outcome = $"failed: {e.GetType().Name}: {e.Message.Split('\n')[0]}";
            }
            var end = clock.Elapsed;
            await Task.Delay(300);   // one more status sample after the call
            var gap = LongestGap(start, end);
            output.WriteLine($"{what}: {(end - start).TotalSeconds:F1} s ({outcome}); longest time without a training step during it: {gap.TotalSeconds:F1} s");
            return (what, outcome, end - start, gap);
        }

        // The longest stretch of [from, to] in which the step count did not advance.
        TimeSpan LongestGap(TimeSpan from, TimeSpan to)
        {
            List<(TimeSpan At, long Step)> samples;
            lock (steps) samples = [.. steps];
            var longest = TimeSpan.Zero;
            var since = from;
            long? previous = null;
            foreach (var (at, step) in samples)
            {
                if (previous is { } p && step != p)
                {
                    var changed = at < from ? from : at > to ? to : at;
                    if (changed > since) longest = Max(longest, changed - since);
                    since = changed;
                }
                previous = step;
            }
            return Max(longest, to - since);
        }
    }

    static (TimeSpan At, long Step) Last(List<(TimeSpan At, long Step)> steps)
    {
        lock (steps) return steps.Count == 0 ? default : steps[^1];
    }

    static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
