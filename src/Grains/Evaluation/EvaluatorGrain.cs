using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Grains.Persistence;
using Streaming.Grains.Placement;
using Streaming.Grains.Telemetry;
using Streaming.Training.Checkpoints;
using Streaming.Training.Evaluation;
using Streaming.Training.Loop;
using Streaming.Schedules;

namespace Streaming.Grains;

/// <summary>What a run's evaluator keeps: every evaluation done, and the snapshots still waiting.</summary>
[GenerateSerializer]
public sealed class EvaluationState
{
    [Id(0)] public List<EvaluatedSnapshot> Done { get; set; } = [];
    [Id(1)] public List<SnapshotRef> Pending { get; set; } = [];

    /// <summary>Main-cadence snapshots passed over, unevaluated, because newer ones were waiting.</summary>
    [Id(2)] public long Skipped { get; set; }
}

/// <summary>
/// Evaluates a run's snapshots beside its training. Placed on CPU silos when there are any: the GPU stays
/// with training, and a validation pass over a few blocks per corpus is small next to a release's cadence.
/// (Where only GPU silos exist it lands on one and shares its device.) The work runs on the worker's own
/// thread; the grain only queues snapshots, persists results and deletes temporary snapshots (the main cadence's;
/// releases are kept) once evaluated.
/// </summary>
[PreferCpuSilos]
public sealed class EvaluatorGrain(
    IOptions<StreamingOptions> options,
    ILogger<EvaluatorGrain> logger,
    StreamingMetrics metrics,
    [PersistentState("evaluation", StreamNames.Storage)] IPersistentState<EvaluationState> state)
    : Grain, IEvaluatorGrain
{
    static readonly TimeSpan CollectPeriod = TimeSpan.FromMilliseconds(250);

    /// <summary>Snapshots handed to the worker at a time: one evaluated, one ready to load.</summary>
    const int InWorker = 2;
    readonly HashSet<string> inWorker = [];

    StoredCorpora? data;
    EvaluationWorker? worker;
    IDisposable? metered;
    volatile EvaluationReport report = EvaluationReport.Empty;
    bool unsaved;   // the state holds a change whose write failed
    /// <summary>Snapshots done with (evaluated without error, or passed over) whose state is not yet written: the temporary
    /// ones among them are deleted once it is (a write that failed during a Redis restart is done again later).</summary>
    readonly List<SnapshotRef> settled = [];

    string Run => this.GetPrimaryKeyString();

    /// <summary>The run's folders: the only place snapshots may come from, and be deleted in.</summary>
    RunFolders Folders => RunFolders.In(options.Value.DataDirectory, Run);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _ = Folders;   // a name that is not a run's (rooted, "..") is refused before anything is read or written
        // Evaluated by an earlier activation that ended between writing the result and deleting the snapshot.
        DeleteSnapshots(Evaluated().Select(d => d.Snapshot));
        report = Report();
        metered = metrics.TrackEvaluations(Run, () => report);
        Feed();
        this.RegisterGrainTimer(CollectAsync, new GrainTimerCreationOptions(CollectPeriod, CollectPeriod) { KeepAlive = true });
        return base.OnActivateAsync(cancellationToken);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metered?.Dispose();
        worker?.Dispose();
        data?.Dispose();
        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    public async Task EvaluateAsync(IReadOnlyList<SnapshotRef> snapshots)
    {
        // Snapshots are the run's own releases and snapshots: never a path elsewhere, which a temporary kind would delete.
        var folders = Folders;
        foreach (var snapshot in snapshots)
        {
            if (!folders.HoldsModel(snapshot.Path))
                throw new ArgumentException($"snapshot '{snapshot.Path}' is not in run {Run}'s releases or snapshots ({folders.Root})");
            try
            {
                var kind = KebabCase.Parse<SnapshotKind>(snapshot.Kind);
                if (kind.IsTemporary() && !folders.HoldsSnapshot(snapshot.Path))
                    throw new ArgumentException($"a {snapshot.Kind} snapshot is deleted once evaluated, so it must be in {folders.Snapshots}, not '{snapshot.Path}'");
            }
            catch (FormatException e)
            {
                throw new ArgumentException($"snapshot '{snapshot.Path}': unknown kind: {e.Message}");
            }
        }
        var known = state.State.Done.Select(d => d.Snapshot.Path).Concat(state.State.Pending.Select(p => p.Path)).ToHashSet();
        var added = snapshots.Where(s => known.Add(s.Path)).ToList();
        // Evaluated already and made again, with the same weights, by a trainer that went back to an earlier checkpoint.
        var evaluated = Evaluated().Select(d => d.Snapshot.Path).ToHashSet();
        settled.AddRange(snapshots.Where(s => evaluated.Contains(s.Path)));
        // Snapshots sent again after a write that failed are known already, but their state still needs writing.
        if (added.Count == 0 && !unsaved)
        {
            DeleteSettled();
            return;
        }
        state.State.Pending.AddRange(added);
        settled.AddRange(SkipOldMainSnapshots());
        await SaveAsync();
        Feed();
        report = Report();
    }

    /// <summary>Writes the state. One that fails (Redis restarting) leaves its change only in memory, where nothing else would
    /// write it: the collect timer writes it again until a write succeeds, so a result is not lost with a Redis restart
    /// (a failure in <see cref="EvaluateAsync"/> also reaches the trainer, which sends the snapshots again).</summary>
    async Task SaveAsync()
    {
        unsaved = true;
        await state.WriteStateAsync();
        unsaved = false;
        DeleteSettled();
    }

    /// <summary>Only once the results are written: a temporary snapshot is gone once evaluated. One that failed stays, for a look.</summary>
    void DeleteSettled()
    {
        DeleteSnapshots(settled);
        settled.Clear();
    }

    IEnumerable<EvaluatedSnapshot> Evaluated() => state.State.Done.Where(d => d.Error is null);

    public Task<EvaluationReport> GetReportAsync() => Task.FromResult(report);

    async Task CollectAsync(CancellationToken cancellationToken)
    {
        if (unsaved)
        {
            try
            {
                await SaveAsync();
            }
            catch (Exception e) when (StorageFailure.IsTransient(e))
            {
                logger.LogWarning("run {Run}: its evaluator could not write its state ({Error}); trying again", Run, StorageFailure.OneLine(e));
                return;
            }
            Feed();
            report = Report();
        }
        if (worker is null) return;
        var results = worker.TakeResults();
        if (results.Count == 0)
        {
            if (worker.Failure != report.Error) report = Report();
            return;
        }
        foreach (var result in results)
        {
            var snapshot = state.State.Pending.FirstOrDefault(p => p.Path == result.Snapshot.Path) ?? FromSnapshot(result.Snapshot);
            state.State.Pending.Remove(snapshot);
            state.State.Done.Add(new EvaluatedSnapshot(snapshot, result.Loss, result.Error));
        }
        foreach (var result in results) inWorker.Remove(result.Snapshot.Path);
        settled.AddRange(results.Where(r => r.Error is null).Select(r => FromSnapshot(r.Snapshot)));
        await SaveAsync();
        Feed();
        // Nothing left to evaluate: its model leaves memory (the next snapshot makes a worker again).
        if (state.State.Pending.Count == 0 && worker.Pending == 0 && worker.Failure is null)
        {
            worker.Dispose();
            worker = null;
            data?.Dispose();
            data = null;
        }
        report = Report();
    }

    /// <summary>Hands the worker the oldest waiting snapshots, a few at a time: the rest wait in the grain's state, where a
    /// main-cadence one can still be passed over.</summary>
    void Feed()
    {
        foreach (var snapshot in state.State.Pending.Where(p => !inWorker.Contains(p.Path)).Take(Math.Max(0, InWorker - inWorker.Count)).ToList())
        {
            Worker().Enqueue(ToSnapshot(snapshot));
            inWorker.Add(snapshot.Path);
        }
    }

    /// <summary>
    /// Bounds the wait: of the main-cadence snapshots not yet with the worker, only the newest <see cref="StreamingOptions.MaxWaitingMainSnapshots"/>
    /// stay (each is a model on disk, and an old live model says less than a newer one). Loss-matrix rows and releases
    /// always wait their turn. Returns the ones passed over, to delete once the state is written.
    /// </summary>
    List<SnapshotRef> SkipOldMainSnapshots()
    {
        var waiting = state.State.Pending.Where(p => !inWorker.Contains(p.Path) && p.Kind == SnapshotKind.Main.ToWire()).ToList();
        var skipped = waiting.Take(Math.Max(0, waiting.Count - options.Value.MaxWaitingMainSnapshots)).ToList();
        foreach (var snapshot in skipped) state.State.Pending.Remove(snapshot);
        state.State.Skipped += skipped.Count;
        if (skipped.Count > 0) logger.LogWarning("run {Run}: the evaluator is behind; {Count} main-cadence snapshots passed over", Run, skipped.Count);
        return skipped;
    }

    /// <summary>Deletes the temporary ones among <paramref name="snapshots"/> (only in the run's snapshots folder).</summary>
    void DeleteSnapshots(IEnumerable<SnapshotRef> snapshots)
    {
        var folders = Folders;
        foreach (var snapshot in snapshots.Where(s => KebabCase.Parse<SnapshotKind>(s.Kind).IsTemporary() && folders.HoldsSnapshot(s.Path)))
            if (Directory.Exists(snapshot.Path)) Directory.Delete(snapshot.Path, recursive: true);
    }

    EvaluationWorker Worker()
    {
        if (worker is not null) return worker;
        var settings = options.Value;
        data = new StoredCorpora(settings.DataDirectory, settings.ValidationBlocks);
        return worker = new EvaluationWorker(new(), settings.Torch, data, logger);
    }

    EvaluationReport Report()
    {
        var done = state.State.Done;
        var kinds = done.Select(d => (Done: d, Kind: KebabCase.Parse<SnapshotKind>(d.Snapshot.Kind))).ToList();
        var matrix = kinds.Where(d => d.Kind.IsTaskRow() && d.Done.Error is null).Select(d => d.Done)
            .OrderBy(d => d.Snapshot.Step)
            .Select(d => new TaskLosses(d.Snapshot.Task, d.Snapshot.Step, d.Loss)).ToList();
        var releases = kinds.Where(d => d.Kind.IsRelease()).Select(d => d.Done).OrderBy(d => d.Snapshot.Step).ToList();
        var main = kinds.Where(d => d.Kind == SnapshotKind.Main).Select(d => d.Done).OrderBy(d => d.Snapshot.Step).ToList();
        return new EvaluationReport(matrix, LossMatrix.Forgetting(matrix), releases, main, state.State.Pending.Count,
            done.Count(d => d.Error is not null), worker?.Failure, state.State.Skipped);
    }

    /// <summary>The grain interface's snapshot (its kind a string, as persisted) as the training library's.</summary>
    static Snapshot ToSnapshot(SnapshotRef s) => new(s.Path, KebabCase.Parse<SnapshotKind>(s.Kind), s.Task, s.Step, s.Corpora, s.MainStep);

    /// <summary>The training library's snapshot as the grain interface's (its kind the string JSON holds).</summary>
    internal static SnapshotRef FromSnapshot(Snapshot s) => new(s.Path, s.Kind.ToWire(), s.Task, s.Step, s.Corpora, s.MainStep);
}
