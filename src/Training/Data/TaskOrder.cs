namespace Streaming.Training.Data;

/// <summary>The order a run trains each task's (corpus') blocks in.</summary>
public enum TaskOrder
{
    /// <summary>A seeded random order, its own for every corpus (a corpus sorted by source still makes a shuffled task).</summary>
    Shuffled,

    /// <summary>The order the ingest stored them in.</summary>
    File,
}

/// <summary>The names of <see cref="TaskOrder"/> on the command line, in settings and in status.</summary>
public static class TaskOrders
{
    public static readonly IReadOnlyList<string> Names = ["shuffled", "file"];

    public static string Name(this TaskOrder order) => order == TaskOrder.File ? "file" : "shuffled";

    /// <summary>The order named <paramref name="name"/>; null when there is none.</summary>
    public static TaskOrder? Parse(string name) => name switch
    {
        "shuffled" => TaskOrder.Shuffled,
        "file" => TaskOrder.File,
        _ => null,
    };
}
