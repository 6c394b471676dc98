using Streaming.Schedules;

namespace Streaming.Client.Compare;

/// <summary>
/// A schedule as `compare --schedules` names it: a kind ("infinite"), or a kind whose task ends release the moving
/// average of its weights instead of an anneal branch ("infinite+average", `--release average`).
/// </summary>
public sealed record ComparedSchedule(string KindName, ScheduleKind Kind, bool Average)
{
    public const string AverageSuffix = "+average";

    /// <summary>Null when the name is no kind, with or without the suffix.</summary>
    public static ComparedSchedule? Parse(string name)
    {
        var average = name.EndsWith(AverageSuffix, StringComparison.Ordinal);
        var kindName = average ? name[..^AverageSuffix.Length] : name;
        return ScheduleKinds.Parse(kindName) is { } kind ? new(kindName, kind, average) : null;
    }

    /// <summary>Whether each task ends with a paper-protocol anneal branch (not when it releases the average instead).</summary>
    public bool HasBranches => Kind.HasBranches() && !Average;

    /// <summary>The name in run names, which allow no '+': "infinite-average".</summary>
    public static string RunLabel(string name) => name.Replace('+', '-');

    /// <summary>What --schedules accepts, for its help and errors.</summary>
    public static string Names => $"{string.Join(", ", ScheduleKinds.AllNames)}, or KIND{AverageSuffix}";
}
