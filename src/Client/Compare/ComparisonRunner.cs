using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Streaming.Client.Commands;
using Streaming.Grains;
using Streaming.Schedules;

namespace Streaming.Client.Compare;

/// <summary>
/// Runs a comparison through the cluster: configures every run and checks its schedule against the stream before
/// anything trains, stores each corpus once, then trains the runs (as many at once as <c>slots</c>), each on the
/// whole stream, and waits until every task's release is evaluated. Runs that exist already (the same command
/// again, after an interruption) are picked up where they are.
/// </summary>
public sealed class ComparisonRunner(IClusterClient client, ComparisonSpec spec, IAnsiConsole console)
{
    static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    IReadOnlyList<long> TaskLengths => [.. spec.Corpora.Select(_ => spec.StepsPerTask)];

    public async Task<IReadOnlyList<RunOutcome>> RunAsync(int? parallel, CancellationToken cancellation)
    {
        var runs = spec.Runs();
        var schedules = new Dictionary<string, ScheduleConfig>();
        foreach (var run in runs) schedules[run.Name] = await ConfigureAsync(run);
        await StoreCorporaAsync(cancellation);
        var slots = parallel ?? Math.Max(1, await client.GetGrain<IRunRegistryGrain>(0).GetTrainerSlotsAsync());
        console.MarkupLineInterpolated($"training {runs.Count} runs of {spec.Corpora.Count} x {spec.StepsPerTask:N0} steps, {slots} at a time");
        var outcomes = new Dictionary<string, RunOutcome>();
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var bars = runs.ToDictionary(r => r.Name, r => context.AddTask(Markup.Escape($"{Label(r)}: waiting"), autoStart: false, maxValue: 1));
                var waiting = new Queue<ComparisonRun>(runs);
                var active = new Dictionary<string, (ComparisonRun Run, Stopwatch? Clock)>();
                while (waiting.Count > 0 || active.Count > 0)
                {
                    while (active.Count < slots && waiting.TryDequeue(out var next))
                    {
                        var started = await StartAsync(next, cancellation);
                        active[next.Name] = (next, started ? Stopwatch.StartNew() : null);
                        bars[next.Name].StartTask();
                    }
                    foreach (var (run, clock) in active.Values.ToList())
                    {
                        var trainer = client.GetGrain<ITrainerGrain>(run.Name);
                        var status = await CommonOptions.Call(trainer.GetStatusAsync);
                        var report = await CommonOptions.Call(client.GetGrain<IEvaluatorGrain>(run.Name).GetReportAsync);
                        var finished = Show(bars[run.Name], run, status, report);
                        if (!finished) continue;
                        var outcome = outcomes[run.Name] = Outcome(run, schedules[run.Name], status, report, clock?.Elapsed.TotalSeconds);
                        active.Remove(run.Name);
                        bars[run.Name].StopTask();
                        // A line per finished run as well: a log (bars on a redirected stream) may not show a bar's last state.
                        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{Label(run)}: {(clock is null ? "trained before" : $"trained and evaluated in {clock.Elapsed.TotalSeconds:F0} s")}, " +
                            $"average loss {outcome.AverageLoss:F3}, average forgetting {outcome.AverageForgetting:+0.000;-0.000;0.000}"));
                    }
                    if (waiting.Count > 0 || active.Count > 0) await Task.Delay(PollInterval, cancellation);
                }
            });
        return [.. runs.Select(r => outcomes[r.Name])];
    }

    static string Label(ComparisonRun run) => $"{run.Schedule} seed {run.Seed}";

    /// <summary>Gives the run its settings (the same again for an existing run) and checks that its schedule can run this stream.</summary>
    async Task<ScheduleConfig> ConfigureAsync(ComparisonRun run)
    {
        var trainer = client.GetGrain<ITrainerGrain>(run.Name);
        await CommonOptions.Call(() => trainer.ConfigureAsync(run.Settings));
        var schedule = JsonSerializer.Deserialize<ScheduleConfig>(await CommonOptions.Call(trainer.GetScheduleConfigAsync), ScheduleState.JsonOptions)!;
        try
        {
            return SchedulePlanner.Prepare(schedule, TaskLengths);
        }
        catch (ScheduleConfigException e)
        {
            throw new UserError($"schedule {run.Schedule} cannot run {spec.Corpora.Count} tasks of {spec.StepsPerTask} steps: {e.Message}");
        }
    }

    /// <summary>Tokenizes and stores each corpus once, with progress, and checks that it has validation tokens and enough blocks
    /// before any run trains; every run then trains on the same stored blocks.</summary>
    async Task StoreCorporaAsync(CancellationToken cancellation)
    {
        foreach (var corpus in spec.Corpora)
        {
            var name = spec.CorpusName(corpus);
            var stored = await CommonOptions.Call(() => IngestProgressView.ShowAsync(console, corpus.Label,
                onProgress => client.IngestAsync(name, new IngestRequest(null, corpus.Path, spec.Tokenizer), onProgress, cancellation: cancellation)));
            // Forgetting is measured on every corpus' validation split: without one the report could not be written after all the training.
            if (stored.NoValidation is { } why)
                throw new UserError($"corpus {corpus.Label} ({corpus.Path}) cannot be compared: {why}");
            if (stored.Blocks < spec.StepsPerTask)
                throw new UserError($"corpus {corpus.Label} has {stored.Blocks:N0} blocks to train, fewer than --steps-per-task {spec.StepsPerTask:N0}: " +
                    $"use at most {stored.Blocks:N0} (or a larger corpus) so that every run trains the same steps on every task");
        }
    }

    /// <summary>Queues the stream on the run; returns false when it had all of it already (picked up, not started now).</summary>
    async Task<bool> StartAsync(ComparisonRun run, CancellationToken cancellation)
    {
        var queuedBefore = true;
        foreach (var corpus in spec.Corpora)
        {
            var request = new IngestRequest(run.Name, corpus.Path, spec.Tokenizer);
            var result = await CommonOptions.Call(() => client.IngestAsync(spec.CorpusName(corpus), request, _ => { }, cancellation: cancellation));
            queuedBefore &= result.AlreadyQueued;
        }
        return !queuedBefore;
    }

    /// <summary>Updates the run's bar; true once every task is trained and its release evaluated.</summary>
    bool Show(ProgressTask bar, ComparisonRun run, RunStatus status, EvaluationReport report)
    {
        if (status.Phase.StartsWith("failed")) throw new UserError($"run {run.Name} {status.Phase}");
        if (report.Releases.FirstOrDefault(r => r.Error is not null) is { } broken)
            throw new UserError($"run {run.Name}: the release {broken.Snapshot.Path} could not be evaluated: {broken.Error}");
        var total = status.Corpora.Sum(c => c.TokensTotal);
        var trained = status.Corpora.Sum(c => c.TokensRead);
        bar.MaxValue = Math.Max(1, total);
        bar.Value = trained;
        var task = status.Corpora.FirstOrDefault(c => c.TokensRead < c.TokensTotal)?.Name ?? status.Corpora.LastOrDefault()?.Name ?? "";
        var trainedAll = status.Corpora.Count == spec.Corpora.Count && trained == total;
        var evaluated = report.Matrix.Count == spec.Corpora.Count && report.Pending == 0;
        var loss = double.IsFinite(status.Loss) ? $"{status.Loss:F3}" : "-";
        bar.Description = Markup.Escape(trainedAll && evaluated ? $"{Label(run)}: trained and evaluated"
            : trainedAll ? $"{Label(run)}: evaluating the releases ({report.Matrix.Count} of {spec.Corpora.Count} done)"
            : $"{Label(run)}: {Unprefixed(task)} {status.Phase,-8} lr {status.Lr,-9:G3} loss {loss,-5} {status.TokensPerSecond,7:N0} tok/s");
        return trainedAll && evaluated;
    }

    string Unprefixed(string corpus) => corpus.StartsWith(spec.Name + ".") ? corpus[(spec.Name.Length + 1)..] : corpus;

    RunOutcome Outcome(ComparisonRun run, ScheduleConfig schedule, RunStatus status, EvaluationReport report, double? seconds)
    {
        IReadOnlyDictionary<string, double> Labelled(IReadOnlyDictionary<string, double> loss) =>
            loss.ToDictionary(l => Unprefixed(l.Key), l => l.Value);
        EvaluatedModel Model(EvaluatedSnapshot e) =>
            new(Unprefixed(e.Snapshot.Task), e.Snapshot.Step, e.Snapshot.Kind, e.Snapshot.Path, Labelled(e.Loss));
        var releases = report.Releases.Select(Model).ToList();
        // A matrix row is the release after its task (the paper-protocol branch, or the task's end without one).
        var matrix = report.Matrix.Select(row => releases.Single(r => r.Step == row.Step && r.Task == Unprefixed(row.AfterTask))).ToList();
        return new RunOutcome(run, schedule, matrix, [.. report.Main.Where(m => m.Error is null).Select(Model)], releases,
            status.Corpora.Sum(c => c.TokensTrained), status.TokensPerSecond, status.Device, status.Model, status.Parameters, seconds);
    }
}
