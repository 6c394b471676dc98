using System.Diagnostics;
using Streaming.Client;
using Streaming.Client.Commands;
using Streaming.Grains;

namespace Streaming.Load;

/// <summary>One queued ingest: its number, its run, the corpus it became and its tokens to train, or why it failed.</summary>
public sealed record IngestOutcome(int Index, string Run, string Corpus, long Tokens, string? Error);

/// <summary>
/// The load: creates the runs (tiny models), queues the generated corpora on them as uploads, each run's in its order and
/// the runs side by side, while <see cref="StatusPoller"/> asks for status at the set rate and <see cref="ResidentMemory"/>
/// watches the silo's memory. It waits until every run has trained every token and let go of its model, then checks
/// each run's counts against what its ingests queued.
/// </summary>
public sealed class LoadDriver(IClusterClient client, LoadSettings settings, int siloPid)
{
    static readonly TimeSpan Look = TimeSpan.FromMilliseconds(500);

    /// <summary><paramref name="rounds"/> rounds one after another on the same silo, each with new runs and corpora.</summary>
    public static async Task<IReadOnlyList<LoadReport>> RunRoundsAsync(IClusterClient client, LoadSettings settings, int siloPid, int rounds,
        Action<LoadReport>? finished = null, CancellationToken cancellation = default)
    {
        var reports = new List<LoadReport>();
        for (var round = 1; round <= rounds; round++)
        {
            var report = await new LoadDriver(client, settings with { Round = round }, siloPid).RunAsync(cancellation);
            finished?.Invoke(report);
            reports.Add(report);
        }
        return reports;
    }

    public async Task<LoadReport> RunAsync(CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var memory = new ResidentMemory(siloPid, clock);
        var runs = settings.RunNames;
        for (var i = 0; i < runs.Count; i++) await client.GetGrain<ITrainerGrain>(runs[i]).ConfigureAsync(LoadSettings.TinyRun(seed: i));
        var before = memory.Sample();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var sampling = memory.RunAsync(stop.Token);
        var poller = new StatusPoller(client, runs, settings.StatusHz, clock);
        var polling = poller.RunAsync(stop.Token);
        var folder = Directory.CreateTempSubdirectory("streaming-load-");
        IReadOnlyList<IngestOutcome> ingests;
        Ending ending;
        try
        {
            ingests = await IngestAsync(folder.FullName);
            ending = await WaitAsync(poller, memory, clock, ingests, cancellation);
        }
        finally
        {
            await stop.CancelAsync();
            await polling;
            await sampling;
            folder.Delete(recursive: true);
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var final = await FinalStatusesAsync(runs);
        return new LoadReport(settings, poller.Calls, ingests, memory.Samples, before, ending.Trained, ending.Released, seconds,
            [.. ending.Problems, .. Check(final, ingests)], final);
    }

    /// <summary>Every run's corpora in its order, the runs side by side.</summary>
    async Task<IReadOnlyList<IngestOutcome>> IngestAsync(string folder)
    {
        var perRun = await Task.WhenAll(Enumerable.Range(0, settings.Ingests).GroupBy(settings.RunOf).Select(async queue =>
        {
            var outcomes = new List<IngestOutcome>();
            foreach (var index in queue) outcomes.Add(await IngestAsync(folder, index));
            return outcomes;
        }));
        return [.. perRun.SelectMany(o => o).OrderBy(o => o.Index)];
    }

    /// <summary>Generates corpus <paramref name="index"/> and uploads it to its run, as `streaming ingest --run R FILE` does.</summary>
    async Task<IngestOutcome> IngestAsync(string folder, int index)
    {
        var path = GeneratedCorpora.Write(folder, settings.CorpusOf(index), settings.CorpusBytes);
        var (run, corpus) = (settings.RunOf(index), NameRule.CorpusNameOf(path));
        try
        {
            var result = await CorpusUpload.IngestAsync(client, corpus, new IngestRequest(run, path), _ => { });
            return new IngestOutcome(index, run, result.Name, result.Tokens, null);
        }
        catch (Exception e)
        {
            return new IngestOutcome(index, run, corpus, 0, CommonOptions.Describe(e));
        }
    }

    /// <summary>When every run had trained all its tokens, when every run had also let go of its model with its evaluations
    /// done (null: not within the limit), and what stopped the wait early.</summary>
    sealed record Ending(MemorySample? Trained, MemorySample? Released, IReadOnlyList<string> Problems);

    /// <summary>Watches the poller's newest statuses (no calls of its own) until every run is done and out of memory, a run
    /// has failed, or the limit has passed.</summary>
    async Task<Ending> WaitAsync(StatusPoller poller, ResidentMemory memory, Stopwatch clock, IReadOnlyList<IngestOutcome> ingests, CancellationToken cancellation)
    {
        var queued = ingests.Where(i => i.Error is null).GroupBy(i => i.Run).ToDictionary(g => g.Key, g => g.Count());
        MemorySample? trained = null;
        while (true)
        {
            var newest = poller.Newest;
            var statuses = settings.RunNames.Select(r => newest.GetValueOrDefault(r)).ToList();
            if (statuses.FirstOrDefault(s => s?.Phase.StartsWith("failed", StringComparison.Ordinal) == true) is { } failed)
                return new Ending(trained, null, [$"run {failed.Run} {failed.Phase}"]);
            bool TrainedAll(RunStatus? s) => s is not null && s.Corpora.Count == queued.GetValueOrDefault(s.Run) && s.Corpora.All(c => c.TokensRead == c.TokensTotal);
            if (trained is null && statuses.All(TrainedAll)) trained = memory.Sample();
            if (trained is not null && statuses.All(s => Settled(s!) && !s!.ModelInMemory)) return new Ending(trained, memory.Sample(), []);
            if (clock.Elapsed > settings.Limit)
            {
                var busy = statuses.Where(s => s is null || !TrainedAll(s) || !Settled(s) || s.ModelInMemory).Select(s => s?.Run ?? "?");
                return new Ending(trained, null, [$"not every run was done and out of memory after {settings.Limit.TotalSeconds:F0} s: {string.Join(", ", busy)}"]);
            }
            await Task.Delay(Look, cancellation);
        }
    }

    /// <summary>Nothing about the run changes any more: a loss-matrix row for every task, no evaluation waiting, no anneal pending or open.</summary>
    static bool Settled(RunStatus s) => s.Evaluations.Count >= s.Corpora.Count && s.EvaluationsPending == 0 && s.PendingAnnealSteps is null && s.Branch is null;

    /// <summary>Each run's status once more, after the load (null where it cannot be had: a problem of its own).</summary>
    async Task<IReadOnlyList<(string Run, RunStatus? Status, string? Error)>> FinalStatusesAsync(IReadOnlyList<string> runs)
    {
        var final = new List<(string, RunStatus?, string?)>();
        foreach (var run in runs)
        {
            try { final.Add((run, (await StatusQuery.AskAsync(client, run)).Runs.Single(), null)); }
            catch (Exception e) { final.Add((run, null, CommonOptions.Describe(e))); }
        }
        return final;
    }

    /// <summary>What is wrong with the runs' final statuses: an ingest that failed, a run whose corpora are not the ones queued on
    /// it (in their order) or whose tokens were not each read exactly once, a model still in memory.</summary>
    static IEnumerable<string> Check(IReadOnlyList<(string Run, RunStatus? Status, string? Error)> final, IReadOnlyList<IngestOutcome> ingests)
    {
        foreach (var failed in ingests.Where(i => i.Error is not null)) yield return $"ingest {failed.Index} ({failed.Corpus} on {failed.Run}) failed: {failed.Error}";
        foreach (var (run, status, error) in final)
        {
            if (status is null)
            {
                yield return $"run {run}: no status after the load: {error}";
                continue;
            }
            var queued = ingests.Where(i => i.Run == run && i.Error is null).ToList();
            var corpora = status.Corpora.Select(c => c.Name).ToList();
            if (!corpora.SequenceEqual(queued.Select(i => i.Corpus)))
                yield return $"run {run} has corpora {string.Join(", ", corpora)}, not the queued {string.Join(", ", queued.Select(i => i.Corpus))}";
            foreach (var (corpus, ingest) in status.Corpora.Zip(queued))
                if (corpus.TokensTotal != ingest.Tokens || corpus.TokensRead != ingest.Tokens)
                    yield return $"run {run}, corpus {corpus.Name}: {ingest.Tokens:N0} tokens queued, {corpus.TokensTotal:N0} counted, {corpus.TokensRead:N0} read " +
                        $"({corpus.TokensTrained:N0} by the main trajectory, {corpus.TokensAnnealOnly:N0} by anneal branches only)";
            if (status.ModelInMemory) yield return $"run {run} still holds its model in memory";
        }
    }
}
