namespace Streaming.Schedules;

/// <summary>
/// The main trajectory's rate as a pure function of its position. For every kind except
/// repeated-cosine the position is the count n of main steps taken over all tasks, so warmup and
/// cooldown happen once and a first task shorter than them simply carries them into the next task.
/// Repeated-cosine restarts on every task and uses the step k within the task and its length T.
/// </summary>
public static class MainTrajectory
{
    /// <summary>Rate and phase of main step n (0-based, over all tasks) = step k of a task of T steps.</summary>
    public static (double Lr, SchedulePhase Phase) At(ScheduleConfig c, long n, long k, long? taskLength)
    {
        var w = c.WarmupSteps;
        switch (c.ParsedKind)
        {
            case ScheduleKind.Infinite:
                if (n < w) return (Shapes.At(Shape.Linear, 0, c.MaxLr, n, w), SchedulePhase.Warmup);
                if (n < w + c.CooldownSteps)
                    return (Shapes.At(c.ParsedCooldownShape, c.MaxLr, c.ConstLr, n - w, c.CooldownSteps), SchedulePhase.Cooldown);
                return (c.ConstLr, SchedulePhase.Constant);

            case ScheduleKind.Wsd:
                if (n < w) return (Shapes.At(Shape.Linear, 0, c.MaxLr, n, w), SchedulePhase.Warmup);
                return (c.MaxLr, SchedulePhase.Stable);

            case ScheduleKind.Constant:
                if (n < w) return (Shapes.At(Shape.Linear, 0, c.ConstLr, n, w), SchedulePhase.Warmup);
                return (c.ConstLr, SchedulePhase.Constant);

            case ScheduleKind.RepeatedCosine:
                if (k < w) return (Shapes.At(Shape.Linear, 0, c.MaxLr, k, w), SchedulePhase.Warmup);
                if (taskLength is not long t)
                    throw new InvalidOperationException("a repeated-cosine schedule needs the task's length: call TaskStarted(length) first");
                if (k < t) return (Shapes.At(Shape.Cosine, c.MaxLr, c.MinLr, k - w, t - w), SchedulePhase.Decay);
                return (c.MinLr, SchedulePhase.Decay); // the task is over; only a new task may step again

            default: // single horizon: warmup, then decay to min at TotalSteps, then min for ever
                var total = c.TotalSteps ?? throw new InvalidOperationException("single-horizon schedule without TotalSteps");
                if (n < w) return (Shapes.At(Shape.Linear, 0, c.MaxLr, n, w), SchedulePhase.Warmup);
                if (n < total) return (Shapes.At(c.ParsedKind.HorizonShape(), c.MaxLr, c.MinLr, n - w, total - w), SchedulePhase.Decay);
                return (c.MinLr, SchedulePhase.Constant);
        }
    }

    /// <summary>The first main step from which the rate is a plateau that never changes again
    /// (not meaningful for repeated-cosine, which restarts per task).</summary>
    public static long PlateauStart(ScheduleConfig c) => c.ParsedKind switch
    {
        ScheduleKind.Infinite => c.WarmupSteps + c.CooldownSteps,
        ScheduleKind.Wsd or ScheduleKind.Constant => c.WarmupSteps,
        ScheduleKind.RepeatedCosine => 0,
        _ => c.TotalSteps ?? 0,
    };
}
