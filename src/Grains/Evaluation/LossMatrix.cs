namespace Streaming.Grains;

/// <summary>Forgetting from the loss matrix, as docs/evaluation.md defines it.</summary>
public static class LossMatrix
{
    /// <summary>For each corpus: its loss in the newest row minus its loss in the row of its own task (0 for the newest task).</summary>
    public static IReadOnlyDictionary<string, double> Forgetting(IReadOnlyList<TaskLosses> rows)
    {
        var forgetting = new Dictionary<string, double>();
        if (rows.Count == 0) return forgetting;
        foreach (var (corpus, now) in rows[^1].Loss)
            if (rows.LastOrDefault(r => r.AfterTask == corpus) is { } own && own.Loss.TryGetValue(corpus, out var then))
                forgetting[corpus] = now - then;
        return forgetting;
    }
}
