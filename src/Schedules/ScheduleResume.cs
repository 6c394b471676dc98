using System.Globalization;

namespace Streaming.Schedules;

/// <summary>
/// The rules for resuming a saved schedule state under a config that may have changed
/// (docs/schedules.md, "Config changes on resume"):
/// <list type="bullet">
/// <item>kind: refused.</item>
/// <item>max/const/min rates: applied from the next step (the position is kept, the formulas use the new
/// values; an open branch keeps its start rate but ends at the new min).</item>
/// <item>warmup, cooldown, cooldown shape, total steps (what shapes the main trajectory): applied when the
/// steps already taken would have had the same rates under the new value (the change only reaches the
/// future), or when the main trajectory is past the reach of both old and new value (no effect);
/// refused otherwise, because honouring it would mean a jump into a different point of the curve.
/// Repeated-cosine: a warmup change is accepted at a task boundary and applies from that task.</item>
/// <item>anneal shape: applies to branches that fork from now on; an open branch keeps its shape.</item>
/// <item>anneal fraction / steps: applies from the next task; the current task keeps its plan.</item>
/// </list>
/// </summary>
internal static class ScheduleResume
{
    public static LearningRateSchedule Restore(ScheduleConfig current, ScheduleState saved)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(saved);
        if (saved.Version != ScheduleState.CurrentVersion)
            throw new ScheduleConfigException(
                $"schedule state: version {saved.Version} is not readable by this build (reads {ScheduleState.CurrentVersion})");
        if (saved.Config is null)
            throw new ScheduleConfigException("schedule state: no config saved");
        try { saved.Config.Validate(); }
        catch (ScheduleConfigException e) { throw new ScheduleConfigException($"schedule state: its saved config is invalid: {e.Message}"); }
        current.Validate();

        var old = saved.Config;
        var notes = new List<string>();
        if (old.ParsedKind != current.ParsedKind)
            throw new ScheduleConfigException("kind",
                $"the saved schedule is {old.ParsedKind.Name()}; it cannot resume as {current.ParsedKind.Name()} (start a new schedule)");

        Rate("max-lr", old.MaxLr, current.MaxLr, notes);
        Rate("const-lr", old.ConstLr, current.ConstLr, notes);
        Rate("min-lr", old.MinLr, current.MinLr, notes);

        if (current.ParsedKind == ScheduleKind.RepeatedCosine)
            RepeatedCosineWarmup(old, current, saved, notes);
        else
            MainShape(old, current, saved, notes);

        if (old.EffectiveAnnealShape != current.EffectiveAnnealShape)
            notes.Add($"--anneal-shape: {Shapes.Name(old.EffectiveAnnealShape)} -> {Shapes.Name(current.EffectiveAnnealShape)}, "
                + "applies to branches that fork from now on"
                + (saved.Branch is { } b ? $" (the open branch keeps {b.Shape})" : ""));
        if (old.AnnealFraction != current.AnnealFraction || old.AnnealSteps != current.AnnealSteps)
            notes.Add($"--anneal-fraction/--anneal-steps: {Plan(old)} -> {Plan(current)}, applies from the next task"
                + (saved.TaskIndex >= 0 ? $" (task {saved.TaskIndex} keeps its plan)" : ""));

        return new LearningRateSchedule(saved with { Config = current }, notes);
    }

    private static void Rate(string field, double was, double now, List<string> notes)
    {
        if (was.Equals(now)) return;
        notes.Add($"--{field}: {NumberText.Format(was)} -> {NumberText.Format(now)}, takes effect from the next step");
    }

    /// <summary>Warmup, cooldown, cooldown shape, total steps of the kinds whose main rate is a function
    /// of the main step count n.</summary>
    private static void MainShape(ScheduleConfig old, ScheduleConfig current, ScheduleState saved, List<string> notes)
    {
        var changed = new List<(string Field, string Was, string Now)>();
        if (old.WarmupSteps != current.WarmupSteps) changed.Add(("warmup", Str(old.WarmupSteps), Str(current.WarmupSteps)));
        if (old.CooldownSteps != current.CooldownSteps) changed.Add(("cooldown", Str(old.CooldownSteps), Str(current.CooldownSteps)));
        if (old.ParsedCooldownShape != current.ParsedCooldownShape) changed.Add(("cooldown-shape", old.CooldownShape, current.CooldownShape));
        if (old.TotalSteps != current.TotalSteps) changed.Add(("total-steps", Str(old.TotalSteps), Str(current.TotalSteps)));
        if (changed.Count == 0) return;

        // Compare at the old rates: rate changes are handled (and applied) on their own.
        var reshaped = current with { MaxLr = old.MaxLr, ConstLr = old.ConstLr, MinLr = old.MinLr };
        var n = saved.MainSteps;
        var reach = Math.Max(MainTrajectory.PlateauStart(old), MainTrajectory.PlateauStart(reshaped));
        var historySame = true;
        for (long i = 0, end = Math.Min(n, reach); i < end && historySame; i++)
            historySame = MainTrajectory.At(old, i, 0, null) == MainTrajectory.At(reshaped, i, 0, null);
        var futureSame = n >= reach;

        string verdict;
        if (historySame && futureSame) verdict = $"no effect (the main trajectory is at step {n}, past its reach)";
        else if (historySame) verdict = "applies from the next step (no step taken so far is affected)";
        else if (futureSame) verdict = $"no effect on future steps (the main trajectory is at step {n}, past its reach)";
        else
        {
            var (field, was, now) = changed[0];
            throw new ScheduleConfigException(field,
                $"cannot change from {was} to {now} at main step {n}: the steps taken so far followed the old value "
                + "and the next ones would jump to another point of the curve (resume with the old value or start a new schedule)");
        }
        foreach (var (field, was, now) in changed) notes.Add($"--{field}: {was} -> {now}, {verdict}");
    }

    private static void RepeatedCosineWarmup(ScheduleConfig old, ScheduleConfig current, ScheduleState saved, List<string> notes)
    {
        if (old.WarmupSteps == current.WarmupSteps) return;
        var was = Str(old.WarmupSteps);
        var now = Str(current.WarmupSteps);
        var atBoundary = saved.TaskIndex < 0 || saved.StepsInTask == 0 || (saved.TaskLength is long t && saved.StepsInTask >= t);
        if (!atBoundary)
            throw new ScheduleConfigException("warmup",
                $"cannot change from {was} to {now} inside task {saved.TaskIndex} (step {saved.StepsInTask} of {saved.TaskLength}); "
                + "a repeated-cosine warmup may change only at a task boundary");
        if (saved.TaskIndex >= 0 && saved.StepsInTask == 0)
        {
            current.ValidateTask(saved.TaskIndex, saved.TaskLength);
            notes.Add($"--warmup: {was} -> {now}, applies from task {saved.TaskIndex}, which has not taken a step yet");
        }
        else notes.Add($"--warmup: {was} -> {now}, applies from the next task");
    }

    private static string Plan(ScheduleConfig c) =>
        c.AnnealSteps is long a ? $"{a} steps" : c.AnnealFraction is double f ? $"fraction {NumberText.Format(f)}" : "none";

    private static string Str(long? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "unset";
}
