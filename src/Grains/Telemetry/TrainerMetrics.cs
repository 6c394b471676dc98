using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Streaming.Training.Loop;
using Streaming.Training.Schedules;

namespace Streaming.Grains.Telemetry;

/// <summary>
/// The metrics contract of design.md for the trainers active in this silo. Instruments are observable:
/// they read each loop's latest progress snapshot when scraped, so training never waits on telemetry.
/// Names are the Prometheus names (the exporter adds "_total" to counters).
/// </summary>
public sealed class TrainerMetrics : IDisposable
{
    public const string MeterName = "Streaming";

    readonly Meter meter;
    readonly ConcurrentDictionary<string, Func<TrainingProgress>> trainers = new();

    public TrainerMetrics(IMeterFactory meters)
    {
        meter = meters.Create(MeterName);
        meter.CreateObservableGauge("streaming_learning_rate", () => Each<double>(p => [Measure(p.LearningRate)]),
            description: "Learning rate of the step being trained");
        meter.CreateObservableGauge("streaming_schedule_phase", () => Each(Phases),
            description: "1 for the schedule phase being trained, 0 for the others");
        meter.CreateObservableCounter("streaming_optimizer_steps", () => Each<long>(p => [Measure(p.StepsExecuted)]),
            description: "Optimizer steps executed, main trajectory and anneal branches");
        meter.CreateObservableCounter("streaming_tokens_trained", () => Each<long>(p => [.. p.TokensTrained.Select(c => Measure(c.Value, ("corpus", c.Key)))]),
            description: "Tokens of each corpus trained (each exactly once)");
        meter.CreateObservableGauge("streaming_train_loss", () => Each<double>(p => double.IsNaN(p.Loss) ? [] : [Measure(p.Loss)]),
            description: "Training loss of the last step (nats per token)");
        meter.CreateObservableGauge("streaming_eval_loss", () => Each(EvalLoss),
            description: "Validation loss per corpus of the newest evaluation (nats per token)");
        meter.CreateObservableGauge("streaming_forgetting", () => Each(Forgetting),
            description: "Validation loss per corpus now minus right after its task (nats per token; higher is worse)");
        meter.CreateObservableGauge("streaming_tokens_per_second", () => Each<double>(p => [Measure(p.TokensPerSecond)]),
            description: "Training throughput, new tokens per second (moving average)");
        meter.CreateObservableGauge("streaming_gpu_memory_used_bytes",
            () => GpuMemory.Read().Select(g => new Measurement<double>(g.Used, new KeyValuePair<string, object?>("gpu", g.Device.ToString()))),
            description: "GPU memory in use on this silo's machine (NVML; absent without NVIDIA GPUs)");
        meter.CreateObservableGauge("streaming_gpu_memory_total_bytes",
            () => GpuMemory.Read().Select(g => new Measurement<double>(g.Total, new KeyValuePair<string, object?>("gpu", g.Device.ToString()))),
            description: "GPU memory of this silo's machine (NVML; absent without NVIDIA GPUs)");
    }

    /// <summary>Reports a trainer's progress until the returned handle is disposed (the grain's deactivation).</summary>
    public IDisposable Track(string run, Func<TrainingProgress> progress)
    {
        trainers[run] = progress;
        return new Untrack(() => trainers.TryRemove(new KeyValuePair<string, Func<TrainingProgress>>(run, progress)));
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
        p.Phase == "idle" ? [] : Enum.GetValues<SchedulePhase>().Select(phase => Measure(phase.Name() == p.Phase ? 1 : 0, ("phase", phase.Name())));

    static IEnumerable<(double, KeyValuePair<string, object?>[])> EvalLoss(TrainingProgress p) =>
        p.Evaluations.Count == 0 ? [] : p.Evaluations[^1].Loss.Select(c => Measure(c.Value, ("corpus", c.Key)));

    static IEnumerable<(double, KeyValuePair<string, object?>[])> Forgetting(TrainingProgress p) =>
        Forgetting(p.Evaluations).Select(c => Measure(c.Value, ("corpus", c.Key)));

    /// <summary>design.md: for each corpus, its loss in the newest evaluation minus its loss right after its own task.</summary>
    public static IReadOnlyDictionary<string, double> Forgetting(IReadOnlyList<TaskEvaluation> evaluations)
    {
        var forgetting = new Dictionary<string, double>();
        if (evaluations.Count == 0) return forgetting;
        foreach (var (corpus, now) in evaluations[^1].Loss)
            if (evaluations.LastOrDefault(e => e.AfterTask == corpus) is { } own && own.Loss.TryGetValue(corpus, out var then))
                forgetting[corpus] = now - then;
        return forgetting;
    }

    public void Dispose() => meter.Dispose();

    sealed class Untrack(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
