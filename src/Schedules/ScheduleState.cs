using System.Text.Json;
using System.Text.Json.Serialization;

namespace Streaming.Schedules;

/// <summary>
/// Everything a <see cref="LearningRateSchedule"/> needs to continue bit-identically: counters, the
/// current task's plan, an open branch, and the config it ran under (to detect changes on resume).
/// Small and System.Text.Json serializable; it goes into every checkpoint.
/// </summary>
public sealed record ScheduleState
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    /// <summary>The config this state was produced under.</summary>
    public required ScheduleConfig Config { get; init; }

    /// <summary>Optimizer steps taken on the main trajectory, over all tasks (branch steps excluded).</summary>
    public long MainSteps { get; init; }

    /// <summary>Every optimizer step executed, main and branch alike.</summary>
    public long StepsExecuted { get; init; }

    /// <summary>0-based index of the current task; -1 before the first task started.</summary>
    public int TaskIndex { get; init; } = -1;

    /// <summary>Length of the current task in steps, when known.</summary>
    public long? TaskLength { get; init; }

    /// <summary>Main steps taken in the current task.</summary>
    [JsonPropertyName("taskSteps")] // the name every checkpoint has used
    public long StepsInTask { get; init; }

    /// <summary>Paper protocol: the branch length planned for the current task when it started (a config
    /// change on resume applies from the next task, so the plan is kept here).</summary>
    public long? TaskAnnealSteps { get; init; }

    /// <summary>A paper-protocol branch has ended the current task; only a new task may follow.</summary>
    public bool TaskClosed { get; init; }

    /// <summary>The open anneal branch, or null on the main trajectory.</summary>
    public BranchState? Branch { get; init; }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static ScheduleState FromJson(string json) =>
        JsonSerializer.Deserialize<ScheduleState>(json, JsonOptions)
        ?? throw new JsonException("schedule state: null");
}

/// <summary>An anneal branch in progress. Its start rate and shape are fixed when it forks.</summary>
public sealed record BranchState
{
    public AnnealMode Mode { get; init; }

    /// <summary>A, the branch's length in steps.</summary>
    public long Length { get; init; }

    /// <summary>Branch steps taken so far.</summary>
    public long Steps { get; init; }

    /// <summary>The rate the branch decays from: the main trajectory's rate at the fork.</summary>
    public double StartLr { get; init; }

    /// <summary>The branch's shape (config spelling).</summary>
    public required string Shape { get; init; }
}
