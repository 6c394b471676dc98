using System.Text.Json.Serialization;
using Streaming.Schedules;

namespace Streaming.Training.Loop;

/// <summary>What a run releases at the end of each task. Kebab-case strings in JSON and on the command line.</summary>
[JsonConverter(typeof(KebabCaseEnumConverter<TaskRelease>))]
public enum TaskRelease
{
    /// <summary>The paper-protocol anneal branch over the task's last steps, or the main trajectory's weights for a task
    /// without one: the task's row of the loss matrix.</summary>
    Anneal,

    /// <summary>The weight average at the task's end, as its row of the loss matrix; no anneal branch is taken.</summary>
    Average,

    /// <summary>Both: the anneal release as the task's row, and the average beside it.</summary>
    Both,
}
