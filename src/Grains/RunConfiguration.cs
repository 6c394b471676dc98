using Streaming.Training.Schedules;

namespace Streaming.Grains;

/// <summary>A run's settings merged onto the silo's defaults, and checked.</summary>
public sealed record RunConfiguration(ScheduleConfig Schedule, double ReplayFraction, long Seed, long? TaskSteps, int EvaluateEvery)
{
    /// <summary>Applies <paramref name="settings"/> (null: none) to the silo's defaults; a bad value throws
    /// <see cref="ArgumentException"/> with one line.</summary>
    public static RunConfiguration From(StreamingOptions defaults, RunSettings? settings)
    {
        settings ??= new RunSettings();
        var schedule = defaults.Schedule;
        if (settings.Schedule is { } kind)
        {
            // The silo's anneal fraction belongs to its kind: a kind without branches must not inherit it.
            var branches = ScheduleKinds.Parse(kind)?.HasBranches() ?? true;
            schedule = schedule with { Kind = kind, AnnealFraction = branches ? schedule.AnnealFraction : null };
        }
        schedule = schedule with
        {
            MaxLr = settings.MaxLr ?? schedule.MaxLr,
            ConstLr = settings.ConstLr ?? schedule.ConstLr,
            MinLr = settings.MinLr ?? schedule.MinLr,
            WarmupSteps = settings.WarmupSteps ?? schedule.WarmupSteps,
            CooldownSteps = settings.CooldownSteps ?? schedule.CooldownSteps,
            AnnealFraction = settings.AnnealFraction ?? schedule.AnnealFraction,
            TotalSteps = settings.TotalSteps ?? schedule.TotalSteps,
        };
        try
        {
            schedule.Validate();
        }
        catch (ScheduleConfigException e)
        {
            throw new ArgumentException($"schedule: {e.Message}");
        }
        var replay = settings.ReplayFraction ?? defaults.ReplayFraction;
        if (replay is < 0 or >= 1 || double.IsNaN(replay)) throw new ArgumentException($"replay fraction must be in [0, 1), not {replay}");
        if (settings.TaskSteps is < 1) throw new ArgumentException($"task steps must be at least 1, not {settings.TaskSteps}");
        var evaluateEvery = settings.EvaluateEvery ?? defaults.EvaluateEvery;
        if (evaluateEvery < 0) throw new ArgumentException($"evaluate-every must be 0 (off) or more, not {evaluateEvery}");
        return new RunConfiguration(schedule, replay, settings.Seed ?? 1, settings.TaskSteps, evaluateEvery);
    }
}
