using Streaming.Schedules;

namespace Streaming.Training.Tests.Schedules;

/// <summary>Save at a random step of a random config, restore from JSON, and every following rate is
/// bit-identical to an uninterrupted run.</summary>
public class SaveRestoreTests
{
    /// <summary>Drives a schedule like the planner does, with on-demand anneals sprinkled in by
    /// <paramref name="rng"/>, and calls <paramref name="checkpoint"/> before every step (which may swap
    /// the schedule for a restored copy).</summary>
    private static List<(long, int, SchedulePhase, double)> Drive(
        ScheduleConfig config, long[] tasks, Random rng, Func<LearningRateSchedule, LearningRateSchedule> checkpoint)
    {
        var rows = new List<(long, int, SchedulePhase, double)>();
        var s = new LearningRateSchedule(config);
        var branches = config.ParsedKind.HasBranches();
        void Step()
        {
            s = checkpoint(s);
            rows.Add((s.StepsExecuted, s.TaskIndex, s.Phase, s.LearningRate));
            s.StepTaken();
        }
        foreach (var t in tasks)
        {
            s = checkpoint(s);
            s.TaskStarted(t);
            while (!s.TaskComplete)
            {
                s = checkpoint(s);
                if (s.AnnealDue)
                {
                    s.RequestAnneal((int)s.PlannedAnnealSteps!.Value, AnnealMode.PaperProtocol);
                    while (s.BranchSteps < s.BranchLength) Step();
                    s = checkpoint(s);
                    s.AnnealFinished();
                }
                else if (branches && rng.Next(40) == 0)
                {
                    s.RequestAnneal(rng.Next(1, 12), AnnealMode.OnDemand);
                    while (s.BranchSteps < s.BranchLength) Step();
                    s = checkpoint(s);
                    s.AnnealFinished();
                }
                else Step();
            }
        }
        return rows;
    }

    [Fact]
    public void RestoringASavedStateGivesIdenticalRatesForEveryFollowingStep()
    {
        var cases = new Random(12345);
        for (var c = 0; c < 300; c++)
        {
            var seed = cases.Next();
            var (config, tasks) = RandomSchedules.Next(new Random(seed));
            var reference = Drive(config, tasks, new Random(seed), s => s);

            var saves = new Random(seed ^ 0x5eed);
            var calls = 0;
            var restored = Drive(config, tasks, new Random(seed), s =>
            {
                calls++;
                if (saves.Next(7) != 0) return s;
                var json = s.Save().ToJson();
                var back = LearningRateSchedule.Restore(config, ScheduleState.FromJson(json));
                Assert.Empty(back.ConfigChanges);
                Assert.Equal(s.Save(), back.Save());
                return back;
            });
            Assert.True(calls > 0);
            Assert.True(reference.SequenceEqual(restored), $"case {c} (seed {seed}): {config}");
        }
    }

    [Fact]
    public void StateSurvivesJsonExactly()
    {
        var config = new ScheduleConfig { Kind = "infinite", MaxLr = 1.0 / 3, ConstLr = 0.1 + 0.2, MinLr = 1e-5, WarmupSteps = 3, CooldownSteps = 7 };
        var s = new LearningRateSchedule(config);
        s.TaskStarted(50);
        for (var i = 0; i < 6; i++) s.StepTaken();
        s.RequestAnneal(5, AnnealMode.OnDemand);
        s.StepTaken();
        var json = s.Save().ToJson();
        Assert.Contains("\"mode\":\"on-demand\"", json);
        var back = ScheduleState.FromJson(json);
        Assert.Equal(s.Save(), back);
        Assert.Equal(s.Save().Branch!.StartLr, back.Branch!.StartLr);
    }

    [Fact]
    public void StepsInTaskKeepsTheJsonNameCheckpointsAlreadyHold()
    {
        var s = new LearningRateSchedule(new ScheduleConfig { Kind = "constant", WarmupSteps = 1 });
        s.TaskStarted(10);
        for (var i = 0; i < 4; i++) s.StepTaken();
        var json = s.Save().ToJson();
        Assert.Contains("\"taskSteps\":4", json);
        Assert.Equal(4, ScheduleState.FromJson(json).StepsInTask);
    }

    [Fact]
    public void ConfigJsonHoldsOnlyWhatIsConfiguredAndRoundTrips()
    {
        var config = new ScheduleConfig { Kind = "wsd", AnnealFraction = 0.15, WarmupSteps = 4 };
        var json = System.Text.Json.JsonSerializer.Serialize(config, ScheduleState.JsonOptions);
        // Derived values (parsed kind, effective shape, protocol) would throw for a bad kind and say nothing new.
        Assert.DoesNotContain("parsed", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("effective", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("paperProtocol", json);
        Assert.Equal(config, System.Text.Json.JsonSerializer.Deserialize<ScheduleConfig>(json, ScheduleState.JsonOptions));
        System.Text.Json.JsonSerializer.Serialize(config with { Kind = "nonsense" }, ScheduleState.JsonOptions);
    }

    [Fact]
    public void SavedStateIsSmall() =>
        Assert.True(new LearningRateSchedule(new ScheduleConfig()).Save().ToJson().Length < 600);
}
