using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Options;
using Streaming.Training.Loop;
using Streaming.Schedules;

namespace Streaming.Grains.Telemetry;

/// <summary>
/// The metrics contract (docs/observability.md) for the trainers and evaluators active in this silo. Instruments are
/// observable: they read each one's latest snapshot when scraped, so training never waits on telemetry.
/// Names are the Prometheus names (the exporter adds "_total" to counters).
/// </summary>
public sealed class StreamingMetrics : IDisposable
{
    public const string MeterName = "Streaming";

    readonly Meter meter;
    readonly ConcurrentDictionary<string, Func<TrainingProgress>> trainers = new();
    readonly ConcurrentDictionary<string, Func<EvaluationReport>> evaluators = new();
    readonly ConcurrentDictionary<(string State, string Grain), bool> unreadable = new();

    public StreamingMetrics(IMeterFactory meters, IOptions<StreamingOptions> options)
    {
        dataDirectory = Path.GetFullPath(options.Value.DataDirectory);
        meter = meters.Create(MeterName);
        meter.CreateObservableGauge("streaming_learning_rate", () => Each<double>(p => [Measure(p.LearningRate)]),
            description: "Learning rate of the step being trained");
        meter.CreateObservableGauge("streaming_schedule_phase", () => Each(Phases),
            description: "1 for the schedule phase being trained, 0 for the others");
        meter.CreateObservableCounter("streaming_optimizer_steps", () => Each<long>(p => [Measure(p.StepsExecuted)]),
            description: "Optimizer steps executed, main trajectory and anneal branches");
        meter.CreateObservableCounter("streaming_tokens_trained", () => Each<long>(p => [.. p.State.TokensTrained.Select(c => Measure(c.Value, ("corpus", c.Key)))]),
            description: "Tokens of each corpus trained by the main trajectory (each once; a task's anneal-only tokens are counted apart)");
        meter.CreateObservableCounter("streaming_tokens_anneal_only", () => Each<long>(p => [.. p.State.TokensAnnealOnly.Select(c => Measure(c.Value, ("corpus", c.Key)))]),
            description: "Tokens of each corpus trained only by a paper-protocol anneal branch (its release saw them; the main trajectory goes on from the fork without them)");
        meter.CreateObservableGauge("streaming_train_loss", () => Each<double>(p => double.IsNaN(p.Loss) ? [] : [Measure(p.Loss)]),
            description: "Training loss of the last step (nats per token)");
        meter.CreateObservableGauge("streaming_eval_loss", EvalLoss,
            description: "Validation loss per corpus of the newest evaluation (nats per token)");
        meter.CreateObservableGauge("streaming_forgetting", Forgetting,
            description: "Validation loss per corpus now minus right after its task (nats per token; higher is worse)");
        meter.CreateObservableGauge("streaming_tokens_per_second", () => Each<double>(p => [Measure(p.TokensPerSecond)]),
            description: "Training throughput, new tokens per second (moving average)");
        meter.CreateObservableGauge("streaming_gpu_memory_used_bytes",
            () => GpuMemory.Read().Select(g => new Measurement<double>(g.Used, new KeyValuePair<string, object?>("gpu", g.Device.ToString()))),
            description: "GPU memory in use on this silo's machine (NVML; absent without NVIDIA GPUs)");
        meter.CreateObservableGauge("streaming_gpu_memory_total_bytes",
            () => GpuMemory.Read().Select(g => new Measurement<double>(g.Total, new KeyValuePair<string, object?>("gpu", g.Device.ToString()))),
            description: "GPU memory of this silo's machine (NVML; absent without NVIDIA GPUs)");
        meter.CreateObservableGauge("streaming_grain_state_unreadable",
            () => unreadable.Select(u => new Measurement<int>(1, new("state", u.Key.State), new("grain", u.Key.Grain))),
            description: "1 for each grain whose stored state this silo could not read (that grain does not start; see the log)");
        // For alerting (deploy/prometheus/alerts.yml).
        meter.CreateObservableGauge("streaming_run_failed", () => Each<int>(p => [Measure(p.Error is null ? 0 : 1)]),
            description: "1 when the run's training loop stopped on an error (streaming status says which), else 0");
        meter.CreateObservableGauge("streaming_run_paused", () => Each<int>(p => [Measure(p.Paused is null ? 0 : 1)]),
            description: "1 while the run's training waits for room on the data volume to save (it goes on by itself once there is), else 0");
        meter.CreateObservableCounter("streaming_skipped_steps", () => Each<long>(p => [Measure(p.State.SkippedSteps)]),
            description: "Steps skipped because their loss or gradient was NaN or infinite (the weights stayed as they were)");
        meter.CreateObservableCounter("streaming_rollbacks", () => Each<int>(p => [Measure(p.State.Rollbacks)]),
            description: "Times the run went back to its last checkpoint after too many skipped steps in a row");
        meter.CreateObservableCounter("streaming_loss_spikes", () => Each<long>(p => [Measure(p.State.LossSpikes.Count)]),
            description: "Training losses above the run's reference (moving mean + max(5 std, 10%)): reported, not acted on");
        meter.CreateObservableGauge("streaming_train_loss_nonfinite", () => Each<int>(p => [Measure(p.NonFiniteLoss ? 1 : 0)]),
            description: "1 when the last step's training loss was NaN or infinite, else 0");
        meter.CreateObservableGauge("streaming_tokens_to_train",
            () => tokensToTrain.Select(t => new Measurement<long>(t.Value(), new KeyValuePair<string, object?>("run", t.Key))),
            description: "Tokens of the run's queued corpora not trained yet");
        meter.CreateObservableGauge("streaming_eval_pending_snapshots",
            () => evaluators.Select(e => new Measurement<int>(e.Value().Pending, new KeyValuePair<string, object?>("run", e.Key))),
            description: "Snapshots (releases, task ends, main-trajectory checks) waiting for the run's evaluator");
        meter.CreateObservableGauge("streaming_eval_failed_snapshots",
            () => evaluators.Select(e => new Measurement<int>(e.Value().Failed + (e.Value().Error is null ? 0 : 1), new KeyValuePair<string, object?>("run", e.Key))),
            description: "Snapshots the run's evaluator could not evaluate, plus 1 when it stopped altogether (the silo log has each error whole)");
        meter.CreateObservableCounter("streaming_eval_skipped_snapshots",
            () => evaluators.Select(e => new Measurement<long>(e.Value().Skipped, new KeyValuePair<string, object?>("run", e.Key))),
            description: "Main-trajectory snapshots the run's evaluator passed over, unevaluated, because newer ones were waiting");
        meter.CreateObservableGauge("streaming_data_free_bytes", () => DataVolume(d => d.AvailableFreeSpace),
            description: "Bytes free to this silo on the volume that holds its data folder (corpora, checkpoints, releases)");
        meter.CreateObservableGauge("streaming_data_size_bytes", () => DataVolume(d => d.TotalSize),
            description: "Size of the volume that holds this silo's data folder");
        // For the dashboard's annotations (task starts, releases) and its loss-matrix panel.
        meter.CreateObservableGauge("streaming_task_info", () => Each(CurrentTask),
            description: "1, labelled with the task being trained: its 0-based index and its corpus");
        meter.CreateObservableCounter("streaming_releases", () => Each(ReleasesByMode),
            description: "Releases kept so far, by mode (paper-protocol, on-demand, task-end, average)");
        meter.CreateObservableGauge("streaming_average_decay", () => Each<double>(p => p.AverageDecay is { } d ? [Measure(d)] : []),
            description: "Decay per step of the run's moving average of its weights (absent when it keeps none)");
        meter.CreateObservableGauge("streaming_average_release_step",
            () => Each<long>(p => p.State.Releases.LastOrDefault(r => r.Mode == ReleaseMode.Average) is { } r ? [Measure(r.Step)] : []),
            description: "Optimizer step (executed) of the run's newest release of its weight average (absent before one)");
        meter.CreateObservableGauge("streaming_loss_matrix", LossMatrixCells,
            description: "Validation loss (nats per token) of the release after each task (row) on each corpus (column)");
        meter.CreateObservableGauge("streaming_anneal_predicted_loss",
            () => Each<double>(p => LastPlanned(p) is { Predicted: { } predicted } ? [Measure(predicted.Loss, ("corpus", predicted.Corpus))] : []),
            description: "Validation loss (nats per token) the annealing law predicted for the run's newest planned anneal release, on the corpus it was planned for");
        meter.CreateObservableGauge("streaming_anneal_measured_loss", PlannedMeasured,
            description: "Validation loss (nats per token) the evaluator measured for the run's newest planned anneal release, on the corpus it was planned for");
    }

    /// <summary>The newest release of a planned anneal (`streaming anneal --budget N` or `--target-loss X`), if any.</summary>
    static ReleaseReport? LastPlanned(TrainingProgress p) => p.State.Releases.LastOrDefault(r => r.Predicted is not null);

    /// <summary>The measured loss of each run's newest planned release, once its evaluator has scored it.</summary>
    IEnumerable<Measurement<double>> PlannedMeasured()
    {
        foreach (var (run, progress) in trainers)
        {
            if (LastPlanned(progress()) is not { Predicted: { } predicted, Path: { } path } || !evaluators.TryGetValue(run, out var report)) continue;
            if (report().Releases.FirstOrDefault(r => r.Snapshot.Path == path)?.Loss is { } loss && loss.TryGetValue(predicted.Corpus, out var measured))
                yield return new Measurement<double>(measured, new("run", run), new("corpus", predicted.Corpus));
        }
    }

    /// <summary>What is wrong with the runs on this silo now, one line each: training loops and evaluators that stopped on
    /// an error, grain state that cannot be read. Empty when all is well. (Read by the silo's /health.)</summary>
    public IReadOnlyList<string> Problems() =>
    [
        .. trainers.Select(t => (t.Key, t.Value().Error)).Where(t => t.Error is not null).Select(t => $"run {t.Key} failed: {t.Error}"),
        .. evaluators.Select(e => (e.Key, e.Value().Error)).Where(e => e.Error is not null).Select(e => $"the evaluator of run {e.Key} stopped: {e.Error}"),
        .. unreadable.Keys.Select(u => $"grain state '{u.State}' of {u.Grain} cannot be read"),
    ];

    /// <summary>The runs on this silo whose training waits for room on the data volume, one line each. (Read by the silo's
    /// readiness: a volume too full for a checkpoint.)</summary>
    public IReadOnlyList<string> Paused() =>
        [.. trainers.Select(t => (t.Key, t.Value().Paused)).Where(t => t.Paused is not null).Select(t => $"run {t.Key} paused: {t.Paused}")];

    /// <summary>Bytes free on the volume of the data folder; null when it cannot be read (not created yet).</summary>
    public long? DataFreeBytes => DataVolume(d => d.AvailableFreeSpace).Select(m => (long?)m.Value).FirstOrDefault();

    /// <summary>A grain's stored state could not be read (reported until a read of it succeeds).</summary>
    public void StateUnreadable(string state, string grain) => unreadable[(state, grain)] = true;

    public void StateReadable(string state, string grain)
    {
        if (!unreadable.IsEmpty) unreadable.TryRemove((state, grain), out _);
    }

    static IEnumerable<(int, KeyValuePair<string, object?>[])> CurrentTask(TrainingProgress p) =>
        p.State.Tasks.Count == 0 ? [] : [Measure(1, ("task", (p.State.Tasks.Count - 1).ToString(CultureInfo.InvariantCulture)), ("corpus", p.State.Tasks[^1]))];

    /// <summary>Every mode from 0, so that the first release of a mode is a change of a series, not a new one.</summary>
    static IEnumerable<(long, KeyValuePair<string, object?>[])> ReleasesByMode(TrainingProgress p) =>
        Enum.GetValues<ReleaseMode>()
            .Select(mode => Measure((long)p.State.Releases.Count(r => r.Mode == mode), ("mode", mode.ToWire())));

    IEnumerable<Measurement<double>> LossMatrixCells()
    {
        foreach (var (run, source) in evaluators)
        {
            var matrix = source().Matrix;
            for (var row = 0; row < matrix.Count; row++)
                foreach (var (corpus, loss) in matrix[row].Loss)
                    yield return new Measurement<double>(loss, new("run", run), new("task", row.ToString(CultureInfo.InvariantCulture)),
                        new("after_task", matrix[row].AfterTask), new("corpus", corpus));
        }
    }

    readonly string dataDirectory;
    readonly ConcurrentDictionary<string, Func<long>> tokensToTrain = new();

    /// <summary>Reports how many tokens a run has queued and not trained yet, until the returned handle is disposed.</summary>
    public IDisposable TrackTokensToTrain(string run, Func<long> tokens) => Register(tokensToTrain, run, tokens);

    IEnumerable<Measurement<long>> DataVolume(Func<DriveInfo, long> read)
    {
        long? bytes;
        try
        {
            // On Linux DriveInfo asks statvfs about the path itself, so this is the mount the data folder is on.
            bytes = read(new DriveInfo(dataDirectory));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            bytes = null;   // not created yet, or unreadable: no sample rather than a wrong one
        }
        if (bytes is { } known) yield return new Measurement<long>(known, new KeyValuePair<string, object?>("path", dataDirectory));
    }

    /// <summary>Reports a trainer's progress until the returned handle is disposed (the grain's deactivation).</summary>
    public IDisposable Track(string run, Func<TrainingProgress> progress) => Register(trainers, run, progress);

    /// <summary>Reports a run's evaluations until the returned handle is disposed.</summary>
    public IDisposable TrackEvaluations(string run, Func<EvaluationReport> report) => Register(evaluators, run, report);

    static IDisposable Register<T>(ConcurrentDictionary<string, T> registry, string run, T source) where T : class
    {
        registry[run] = source;
        return new Untrack(() => registry.TryRemove(new KeyValuePair<string, T>(run, source)));
    }

    IEnumerable<Measurement<T>> Each<T>(Func<TrainingProgress, IEnumerable<(T Value, KeyValuePair<string, object?>[] Tags)>> measure)
        where T : struct
    {
        foreach (var (run, progress) in trainers)
            foreach (var (value, tags) in measure(progress()))
                yield return new Measurement<T>(value, [new("run", run), .. tags]);
    }

    static (T, KeyValuePair<string, object?>[]) Measure<T>(T value, params (string Key, string Value)[] tags) =>
        (value, [.. tags.Select(t => new KeyValuePair<string, object?>(t.Key, t.Value))]);

    static IEnumerable<(int, KeyValuePair<string, object?>[])> Phases(TrainingProgress p) =>
        p.Phase is not { } current ? [] : Enum.GetValues<SchedulePhase>().Select(phase => Measure(phase == current ? 1 : 0, ("phase", phase.Name())));

    /// <summary>The newest evaluated snapshot of each run (a release, a task end or the main trajectory).</summary>
    IEnumerable<Measurement<double>> EvalLoss()
    {
        foreach (var (run, report) in evaluators)
        {
            var latest = report().Matrix.Select(r => (r.Step, r.Loss))
                .Concat(report().Main.Where(m => m.Error is null).Select(m => (m.Snapshot.Step, m.Loss)))
                .MaxBy(e => e.Step);
            foreach (var (corpus, loss) in latest.Loss ?? new Dictionary<string, double>())
                yield return new Measurement<double>(loss, new("run", run), new("corpus", corpus));
        }
    }

    IEnumerable<Measurement<double>> Forgetting()
    {
        foreach (var (run, report) in evaluators)
            foreach (var (corpus, forgetting) in report().Forgetting)
                yield return new Measurement<double>(forgetting, new("run", run), new("corpus", corpus));
    }

    public void Dispose() => meter.Dispose();

    sealed class Untrack(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
