using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Streaming.Training.Checkpoints;
using Streaming.Training.Loop;

namespace Streaming.Grains;

/// <summary>
/// Failover. While a run has work left, a reminder ticks every <see cref="StreamingOptions.KeepAlivePeriod"/>.
/// Reminders are durable (Redis when clustered), so when the trainer's silo dies, the reminder service of a
/// surviving silo delivers the next tick there; that activates the trainer anew, and OnActivateAsync resumes
/// from the persisted checkpoint. Without it nobody might call the trainer again: corpora only answer it.
/// </summary>
public sealed partial class TrainerGrain : IRemindable, ILifecycleParticipant<IGrainLifecycle>
{
    const string KeepAliveReminder = "keep-alive";
    static readonly TimeSpan PreviousActivationWait = TimeSpan.FromSeconds(60);

    /// <summary>Per run, the trainer activation that lives in this process; completed once it has stopped.</summary>
    static readonly ConcurrentDictionary<string, TaskCompletionSource> LocalActivations = new();

    TaskCompletionSource? stopped;

    /// <summary>Work is left until the recorded checkpoint's cursors cover every block of every corpus
    /// (a checkpoint is always written at the end of a task).</summary>
    bool HasUnfinishedWork => Corpora.Any(c => cursors.GetValueOrDefault(c.Name) < c.Blocks);

    /// <summary>This run's checkpoints; opened once per activation (which clears what an interrupted save left behind).</summary>
    CheckpointStore Checkpoints => checkpoints ??= new CheckpointStore(Folders.Checkpoints, ownerAcknowledges: true);

    RunFolders Folders => RunFolders.In(options.Value.DataDirectory, Run);

    void ILifecycleParticipant<IGrainLifecycle>.Participate(IGrainLifecycle lifecycle) =>
        // The Activate stage starts after the state is read (SetupState) and before OnActivateAsync starts the loop;
        // it stops after OnDeactivateAsync has disposed the loop.
        lifecycle.Subscribe(nameof(TrainerGrain) + ".Failover", GrainLifecycleStage.Activate, StartingAsync, StoppedAsync);

    async Task StartingAsync(CancellationToken cancellation)
    {
        await AfterPreviousActivationAsync();
        await RepairDanglingCheckpointAsync();
        cursors = ReadCursors();
        // A run that will train loads its checkpoint: one that does not verify (a damaged disk, a torn copy) gives way to
        // the newest that does, with its own cursors (a finished run is not read in full, only its loop part).
        if ((HasUnfinishedWork || state.State.PendingAnnealSteps is not null) && await FallBackFromDamagedCheckpointAsync())
            cursors = ReadCursors();
        await KeepAliveAsync();
    }

    /// <summary>
    /// Waits until an earlier activation of this run in the same process has stopped, then reads the state again.
    /// Silos in one process (test clusters) overlap when one is killed: its trainer still deactivates, training
    /// its queued blocks and writing checkpoints, while calls are already routed here. Separate processes cannot
    /// overlap that way: a killed process trains nothing more.
    /// </summary>
    async Task AfterPreviousActivationAsync()
    {
        TaskCompletionSource? previous = null;
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        LocalActivations.AddOrUpdate(Run, mine, (_, earlier) => { previous = earlier; return mine; });
        stopped = mine;
        if (previous is null || previous.Task.IsCompleted) return;
        try
        {
            await previous.Task.WaitAsync(PreviousActivationWait);
        }
        catch (TimeoutException)
        {
            logger.LogWarning("run {Run}: the previous activation in this process did not stop within {Wait}; resuming anyway", Run, PreviousActivationWait);
        }
        await state.ReadStateAsync();
    }

    /// <summary>
    /// The state can point at a checkpoint that is gone: the store keeps only the newest two until the grain acknowledges
    /// one, and the loop may write two before the pump records one (small CheckpointEvery, a busy grain, or the queued
    /// blocks it trains while being disposed), so a crash at that moment leaves the pointer dangling. Then the newest
    /// checkpoint of the run that verifies is its latest state: it carries its own cursors, so resuming stays exactly once.
    /// </summary>
    async Task RepairDanglingCheckpointAsync()
    {
        if (state.State.Checkpoint is not { } pointer || Directory.Exists(pointer)) return;
        // Nothing to resume from: the loop reports the missing checkpoint as the run's failure.
        if (Checkpoints.Newest(verify: true) is not { } newest) return;
        logger.LogWarning("run {Run}: checkpoint {Missing} is gone; resuming from {Newest}, the newest that verifies", Run, pointer, newest);
        state.State.Checkpoint = newest;
        await state.WriteStateAsync();
    }

    /// <summary>Whether the recorded checkpoint was replaced by the newest one that verifies, because it does not.</summary>
    async Task<bool> FallBackFromDamagedCheckpointAsync()
    {
        if (state.State.Checkpoint is not { } pointer || !Directory.Exists(pointer)) return false;
        try
        {
            Checkpoint.Verify(pointer);
            return false;
        }
        catch (CheckpointException e)
        {
            // Nothing that verifies: the loop reports the damaged checkpoint as the run's failure.
            if (Checkpoints.Newest(verify: true) is not { } newest) return false;
            logger.LogWarning("run {Run}: checkpoint {Damaged} does not verify ({Error}); resuming from {Newest}, the newest that does",
                Run, pointer, e.Message, newest);
            state.State.Checkpoint = newest;
            await state.WriteStateAsync();
            return true;
        }
    }

    /// <summary>The cursors (next block per corpus) of the recorded checkpoint; none before the first, or when it cannot be
    /// read (the loop then reports why, as the run's failure).</summary>
    IReadOnlyDictionary<string, long> ReadCursors()
    {
        if (state.State.Checkpoint is not { } checkpoint) return new Dictionary<string, long>();
        try
        {
            return LoopState.ReadFrom(checkpoint).NextSequence;
        }
        catch (CheckpointException e)
        {
            logger.LogWarning(e, "run {Run}: the cursors of checkpoint {Checkpoint} cannot be read", Run, checkpoint);
            return new Dictionary<string, long>();
        }
    }

    /// <summary>Runs after OnDeactivateAsync: a waiting activation of this run in this process may go on.</summary>
    Task StoppedAsync(CancellationToken cancellation)
    {
        if (stopped is { } mine)
        {
            mine.TrySetResult();
            LocalActivations.TryRemove(new KeyValuePair<string, TaskCompletionSource>(Run, mine));
        }
        return Task.CompletedTask;
    }

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
            // Training goes on without it; only a failover would wait for the next call or a silo start.
            logger.LogWarning(e, "run {Run}: could not register the keep-alive reminder", Run);
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != KeepAliveReminder) return;
        if (HasUnfinishedWork)
        {
            // The tick itself kept (or brought) us alive; a GPU that has come up since is worth moving to.
            MoveToAcceleratorWhenOneIsUp();
            return;
        }
        if (await this.GetReminder(KeepAliveReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }
}
