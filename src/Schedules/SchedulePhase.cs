namespace Streaming.Schedules;

/// <summary>The phase of the step about to be taken. Names (see <see cref="SchedulePhaseNames"/>) are a
/// contract: CSV rows, metrics labels and status output use exactly these six.</summary>
public enum SchedulePhase
{
    Warmup,
    Cooldown,
    Constant,
    Anneal,
    Decay,
    Stable,
}

public static class SchedulePhaseNames
{
    public static string Name(this SchedulePhase phase) => phase switch
    {
        SchedulePhase.Warmup => "warmup",
        SchedulePhase.Cooldown => "cooldown",
        SchedulePhase.Constant => "constant",
        SchedulePhase.Anneal => "anneal",
        SchedulePhase.Decay => "decay",
        SchedulePhase.Stable => "stable",
        _ => throw new ArgumentOutOfRangeException(nameof(phase), phase, null),
    };
}
