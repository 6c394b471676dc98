namespace Streaming.Schedules;

/// <summary>The learning-rate schedules the service offers. The config carries the kebab-case name (see <see cref="ScheduleKinds"/>).</summary>
public enum ScheduleKind
{
    Infinite,
    RepeatedCosine,
    Wsd,
    Cosine,
    Linear,
    Constant,
    InverseSqrt,
    Rex,
}

public static class ScheduleKinds
{
    public static string Name(this ScheduleKind kind) => kind switch
    {
        ScheduleKind.Infinite => "infinite",
        ScheduleKind.RepeatedCosine => "repeated-cosine",
        ScheduleKind.Wsd => "wsd",
        ScheduleKind.Cosine => "cosine",
        ScheduleKind.Linear => "linear",
        ScheduleKind.Constant => "constant",
        ScheduleKind.InverseSqrt => "inverse-sqrt",
        ScheduleKind.Rex => "rex",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static IReadOnlyList<string> AllNames { get; } = Enum.GetValues<ScheduleKind>().Select(Name).ToArray();

    /// <summary>Parses a config spelling; null when unknown.</summary>
    public static ScheduleKind? Parse(string? name)
    {
        var n = name?.Trim().ToLowerInvariant();
        foreach (var kind in Enum.GetValues<ScheduleKind>())
            if (kind.Name() == n) return kind;
        return null;
    }

    /// <summary>Kinds with anneal branches (a fork that decays to min and returns to the main trajectory).</summary>
    public static bool HasBranches(this ScheduleKind kind) => kind is ScheduleKind.Infinite or ScheduleKind.Wsd;

    /// <summary>Kinds with one horizon (the total of all tasks) that decay from max to min over it.</summary>
    public static bool IsSingleHorizon(this ScheduleKind kind) =>
        kind is ScheduleKind.Cosine or ScheduleKind.Linear or ScheduleKind.InverseSqrt or ScheduleKind.Rex;

    /// <summary>The decay shape of a single-horizon kind.</summary>
    public static Shape HorizonShape(this ScheduleKind kind) => kind switch
    {
        ScheduleKind.Cosine => Shape.Cosine,
        ScheduleKind.Linear => Shape.Linear,
        ScheduleKind.InverseSqrt => Shape.InverseSqrt,
        ScheduleKind.Rex => Shape.Rex,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a single-horizon kind"),
    };
}
