using Microsoft.Extensions.Logging;

namespace Streaming.Grains;

/// <summary>
/// Failover: while a run has work left, a reminder ticks every <see cref="StreamingOptions.KeepAlivePeriod"/>.
/// Reminders are durable (Redis when clustered), so when the trainer's silo dies, the reminder service on a
/// surviving silo delivers the next tick there; that activates the trainer anew, and OnActivateAsync resumes
/// from the persisted checkpoint. Nobody else would call a trainer whose silo died (corpora only answer it).
/// </summary>
public sealed partial class TrainerGrain : IRemindable, ILifecycleParticipant<IGrainLifecycle>
{
    const string KeepAliveReminder = "keep-alive";

    /// <summary>Work is left until the persisted checkpoint's cursors cover every block of every corpus
    /// (a checkpoint is always written at the end of a task).</summary>
    bool HasUnfinishedWork => Corpora.Any(c => state.State.NextSequence.GetValueOrDefault(c.Name) < c.Blocks);

    void ILifecycleParticipant<IGrainLifecycle>.Participate(IGrainLifecycle lifecycle) =>
        // After SetupState, so the run's state has been read.
        lifecycle.Subscribe(nameof(TrainerGrain) + ".KeepAlive", GrainLifecycleStage.Activate, _ => KeepAliveAsync());

    /// <summary>Registers the keep-alive reminder when the run has work left; idempotent, cheap to call again.</summary>
    async Task KeepAliveAsync()
    {
        if (!HasUnfinishedWork) return;
        var period = options.Value.KeepAlivePeriod;
        try
        {
            await this.RegisterOrUpdateReminder(KeepAliveReminder, period, period);
        }
        catch (Exception e)
        {
            // Training goes on without it; only failover after a silo loss would wait for the next call or a restart.
            logger.LogWarning(e, "run {Run}: could not register the keep-alive reminder", Run);
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != KeepAliveReminder || HasUnfinishedWork) return;   // the tick itself kept (or brought) us alive
        if (await this.GetReminder(KeepAliveReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }
}
