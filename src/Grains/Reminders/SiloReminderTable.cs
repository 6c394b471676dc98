namespace Streaming.Grains.Reminders;

/// <summary>
/// The reminder table of a single silo, in its own memory. Orleans' in-memory table lives in a grain, and its reminder
/// service still reads that table during shutdown after the grain has gone and the silo no longer accepts new activations:
/// a SIGTERM in that window printed errors and stack traces on a clean exit. This table makes no grain call, so a silo can
/// read it at any moment of its life. Like Orleans' in-memory table, it ends with the process.
/// </summary>
sealed class SiloReminderTable : IReminderTable
{
    readonly Lock gate = new();
    readonly Dictionary<(GrainId Grain, string Name), ReminderEntry> rows = [];
    long lastETag;

    public Task<ReminderTableData> ReadRows(GrainId grainId) =>
        Task.FromResult(Select(row => row.GrainId == grainId));

    /// <summary>The rows whose grains hash into the ring range (begin, end], which wraps past the top when begin &gt;= end.</summary>
    public Task<ReminderTableData> ReadRows(uint begin, uint end) =>
        Task.FromResult(Select(row => row.GrainId.GetUniformHashCode() is var hash
            && (begin < end ? hash > begin && hash <= end : hash > begin || hash <= end)));

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName)
    {
        lock (gate) return Task.FromResult(rows.TryGetValue((grainId, reminderName), out var row) ? Copy(row) : null);
    }

    public Task<string?> UpsertRow(ReminderEntry entry)
    {
        lock (gate)
        {
            var row = Copy(entry);
            row.ETag = (++lastETag).ToString(System.Globalization.CultureInfo.InvariantCulture);
            rows[(entry.GrainId, entry.ReminderName)] = row;
            return Task.FromResult<string?>(row.ETag);
        }
    }

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
    {
        lock (gate)
            return Task.FromResult(rows.TryGetValue((grainId, reminderName), out var row) && row.ETag == eTag
                && rows.Remove((grainId, reminderName)));
    }

    public Task TestOnlyClearTable()
    {
        lock (gate) rows.Clear();
        return Task.CompletedTask;
    }

    ReminderTableData Select(Func<ReminderEntry, bool> wanted)
    {
        lock (gate) return new ReminderTableData(rows.Values.Where(wanted).Select(Copy).ToList());
    }

    /// <summary>A copy, so that the reminder service's changes to an entry it holds never reach the table unwritten.</summary>
    static ReminderEntry Copy(ReminderEntry row) => new()
    {
        GrainId = row.GrainId, ReminderName = row.ReminderName, StartAt = row.StartAt, Period = row.Period, ETag = row.ETag,
    };
}
