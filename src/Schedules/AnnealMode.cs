using System.Text.Json.Serialization;

namespace Streaming.Schedules;

/// <summary>How an anneal branch relates to the task it forks from.</summary>
[JsonConverter(typeof(KebabCaseEnumConverter<AnnealMode>))]
public enum AnnealMode
{
    /// <summary>The branch trains the last A steps of the task; the task is then over and the main
    /// trajectory continues with the next task from the fork.</summary>
    PaperProtocol,

    /// <summary>The branch trains A steps on the next blocks; the main trajectory then resumes from the fork
    /// in the same task and trains those blocks itself.</summary>
    OnDemand,
}
