namespace Streaming.Schedules;

/// <summary>
/// The learning-rate schedule as a state machine that the trainer drives with events. Queries describe
/// the step about to be taken: read <see cref="LearningRate"/>, run the optimizer step with it, then
/// call <see cref="StepTaken"/>. The whole state is <see cref="Save"/>d into every checkpoint and
/// <see cref="Restore"/> continues with bit-identical rates. Not thread-safe: one trainer thread owns it.
/// </summary>
public sealed class LearningRateSchedule
{
    private ScheduleState _s;

    public LearningRateSchedule(ScheduleConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _s = new ScheduleState { Config = config };
        ConfigChanges = [];
    }

    internal LearningRateSchedule(ScheduleState state, IReadOnlyList<string> configChanges)
    {
        _s = state;
        ConfigChanges = configChanges;
    }

    /// <summary>Continues a saved state under the current config. Changes are applied by the rules in
    /// docs/schedules.md and listed in <see cref="ConfigChanges"/>, or refused with a
    /// <see cref="ScheduleConfigException"/>.</summary>
    public static LearningRateSchedule Restore(ScheduleConfig current, ScheduleState saved) =>
        ScheduleResume.Restore(current, saved);

    public ScheduleConfig Config => _s.Config;

    /// <summary>One line per config change accepted by <see cref="Restore"/>, saying how it applies
    /// (log them: a change is never silent). Empty for a fresh schedule or an unchanged config.</summary>
    public IReadOnlyList<string> ConfigChanges { get; }

    public int TaskIndex => _s.TaskIndex;
    public long? TaskLength => _s.TaskLength;
    public long StepsInTask => _s.StepsInTask;
    public long MainSteps => _s.MainSteps;
    public long StepsExecuted => _s.StepsExecuted;
    public bool InBranch => _s.Branch is not null;

    /// <summary>In a branch: its steps taken and its length.</summary>
    public long BranchSteps => _s.Branch?.Steps ?? 0;
    public long BranchLength => _s.Branch?.Length ?? 0;

    /// <summary>Paper protocol: the branch length planned for the current task (null without a plan).</summary>
    public long? PlannedAnnealSteps => _s.TaskAnnealSteps;

    /// <summary>Paper protocol: the current task has trained its T - A main steps; the trainer should now
    /// call <c>RequestAnneal(PlannedAnnealSteps, AnnealMode.PaperProtocol)</c>.</summary>
    public bool AnnealDue =>
        !_s.TaskClosed && _s.Branch is null && _s.TaskAnnealSteps is long a && a > 0
        && _s.TaskLength is long t && _s.StepsInTask >= t - a;

    /// <summary>The current task has no steps left (all T taken, or closed by a paper-protocol branch).</summary>
    public bool TaskComplete => _s.TaskClosed || (_s.Branch is null && _s.TaskLength is long t && _s.StepsInTask >= t);

    /// <summary>The rate of the step about to be taken.</summary>
    public double LearningRate => Current().Lr;

    /// <summary>The phase of the step about to be taken.</summary>
    public SchedulePhase Phase => Current().Phase;

    private (double Lr, SchedulePhase Phase) Current()
    {
        if (_s.Branch is { } b)
        {
            var phase = _s.Config.ParsedKind == ScheduleKind.Wsd ? SchedulePhase.Decay : SchedulePhase.Anneal;
            var shape = Shapes.Parse(b.Shape) ?? throw new InvalidOperationException($"unknown branch shape '{b.Shape}'");
            var lr = b.Steps < b.Length ? Shapes.At(shape, b.StartLr, _s.Config.MinLr, b.Steps, b.Length) : _s.Config.MinLr;
            return (lr, phase);
        }
        return MainTrajectory.At(_s.Config, _s.MainSteps, _s.StepsInTask, _s.TaskLength);
    }

    /// <summary>A new task begins (the first call starts task 0). Its length in steps is needed by
    /// repeated-cosine and by the paper protocol; pass null when unknown.</summary>
    public void TaskStarted(long? lengthSteps)
    {
        if (_s.Branch is not null)
            throw new InvalidOperationException("an anneal branch is open: call AnnealFinished before starting a task");
        var index = _s.TaskIndex + 1;
        _s.Config.ValidateTask(index, lengthSteps);
        long? plan = _s.Config.PaperProtocol && lengthSteps is long t ? _s.Config.AnnealStepsFor(t) : null;
        _s = _s with
        {
            TaskIndex = index, TaskLength = lengthSteps, StepsInTask = 0, TaskAnnealSteps = plan, TaskClosed = false,
        };
    }

    /// <summary>One optimizer step was executed with <see cref="LearningRate"/>.</summary>
    public void StepTaken()
    {
        if (_s.TaskIndex < 0)
            throw new InvalidOperationException("no task has started: call TaskStarted first");
        if (_s.Branch is { } b)
        {
            if (b.Steps >= b.Length)
                throw new InvalidOperationException($"the anneal branch has taken all its {b.Length} steps: call AnnealFinished");
            _s = _s with { Branch = b with { Steps = b.Steps + 1 }, StepsExecuted = _s.StepsExecuted + 1 };
            return;
        }
        if (_s.TaskClosed)
            throw new InvalidOperationException($"task {_s.TaskIndex} ended with its paper-protocol anneal branch: start the next task");
        if (_s.Config.ParsedKind == ScheduleKind.RepeatedCosine && _s.StepsInTask >= _s.TaskLength)
            throw new InvalidOperationException($"task {_s.TaskIndex} has taken all its {_s.TaskLength} steps: start the next task");
        _s = _s with { MainSteps = _s.MainSteps + 1, StepsInTask = _s.StepsInTask + 1, StepsExecuted = _s.StepsExecuted + 1 };
    }

    /// <summary>Forks an anneal branch of <paramref name="steps"/> steps from the main trajectory. It decays
    /// from the main trajectory's rate at the fork (const once the cooldown is over; never below min) to
    /// min. The main state stays where it is; branch steps do not advance it.</summary>
    public void RequestAnneal(int steps, AnnealMode mode)
    {
        var kind = _s.Config.ParsedKind;
        if (!kind.HasBranches())
            throw new InvalidOperationException($"a {kind.Name()} schedule has no anneal branches");
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        if (_s.TaskIndex < 0)
            throw new InvalidOperationException("no task has started: call TaskStarted first");
        if (_s.Branch is not null)
            throw new InvalidOperationException("an anneal branch is already open");
        if (_s.TaskClosed)
            throw new InvalidOperationException($"task {_s.TaskIndex} already ended with its paper-protocol anneal branch");
        _s = _s with
        {
            Branch = new BranchState
            {
                Mode = mode, Length = steps, Steps = 0, StartLr = ForkLevel(),
                Shape = Shapes.Name(_s.Config.EffectiveAnnealShape),
            },
        };
    }

    /// <summary>The branch is over (all its steps, or abandoned early); the main trajectory continues from
    /// the fork. After a paper-protocol branch the current task is over.</summary>
    public void AnnealFinished()
    {
        var b = _s.Branch ?? throw new InvalidOperationException("no anneal branch is open");
        _s = _s with { Branch = null, TaskClosed = _s.TaskClosed || b.Mode == AnnealMode.PaperProtocol };
    }

    /// <summary>The main trajectory's level at the fork: the rate of its last step (so the branch is
    /// continuous with it), but at least min (before any main step the level would be 0).</summary>
    private double ForkLevel()
    {
        if (_s.MainSteps == 0) return _s.Config.MinLr;
        var last = MainTrajectory.At(_s.Config, _s.MainSteps - 1, _s.StepsInTask - 1, _s.TaskLength).Lr;
        return Math.Max(last, _s.Config.MinLr);
    }

    public ScheduleState Save() => _s;
}
