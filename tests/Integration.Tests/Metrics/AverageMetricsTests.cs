using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Streaming.Grains;
using Streaming.Grains.Telemetry;
using Streaming.Training.Loop;

namespace Streaming.Integration.Tests.Metrics;

/// <summary>The weight average's metrics as the silo's meter reports them, read with a listener (no silo, no Prometheus).</summary>
public sealed class AverageMetricsTests
{
    [Fact]
    public void TheDecayAndTheNewestAverageReleaseAreReportedOnlyForARunThatKeepsAnAverage()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var metrics = new StreamingMetrics(services.GetRequiredService<IMeterFactory>(), Options.Create(new StreamingOptions { DataDirectory = Path.GetTempPath() }));
        var releases = LoopState.Empty with
        {
            Releases = [new("/r/a-step-8", "a", 8, ReleaseMode.TaskEnd), new("/r/a-average-step-9", "a", 9, ReleaseMode.Average), new("/r/b-average-step-20", "b", 20, ReleaseMode.Average)],
        };
        using var averaging = metrics.Track("averaging", () => new TrainingProgress { AverageDecay = 0.99, State = releases });
        using var plain = metrics.Track("plain", () => new TrainingProgress());

        var seen = Collect(services.GetRequiredService<IMeterFactory>());
        Assert.Equal([("averaging", 0.99)], seen["streaming_average_decay"]);
        Assert.Equal([("averaging", 20.0)], seen["streaming_average_release_step"]);
        Assert.Contains(("averaging average", 2.0), seen["streaming_releases"]);
        Assert.Contains(("plain average", 0.0), seen["streaming_releases"]);
    }

    /// <summary>Every measurement of our observable instruments now, by instrument: (run and mode labels, value).</summary>
    static Dictionary<string, List<(string, double)>> Collect(IMeterFactory factory)
    {
        var seen = new Dictionary<string, List<(string, double)>>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // This test's meter only: the silos other tests run in this process have theirs, with runs in any state.
            if (instrument.Meter.Name == StreamingMetrics.MeterName && instrument.Meter.Scope == factory) l.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = string.Join(' ', tags.ToArray().Where(t => t.Key is "run" or "mode").Select(t => t.Value));
            (seen.TryGetValue(instrument.Name, out var list) ? list : seen[instrument.Name] = []).Add((labels, value));
        }
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }
}
