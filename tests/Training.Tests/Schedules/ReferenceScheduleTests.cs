using Streaming.Schedules;

namespace Streaming.Training.Tests.Schedules;

/// <summary>
/// An independent computation: the rows of a plan written down directly from the schedule formulas, task by task
/// with global counters and the formulas inlined (no state machine, no Shapes), compared with the
/// planner for many random configs to 1e-12 relative.
/// </summary>
public class ReferenceScheduleTests
{
    private static double Shape(string name, double a, double b, double p)
    {
        if (p >= 1) return b;
        double H(double x) => 1 / Math.Sqrt(1 + 10 * x) - 1;
        return name switch
        {
            "linear" => a + (b - a) * p,
            "cosine" => b + (a - b) * (1 + Math.Cos(Math.PI * p)) / 2,
            "exponential" => a * Math.Pow(b / a, p),
            "1-sqrt" => b + (a - b) * (1 - Math.Sqrt(p)),
            "inverse-sqrt" => a + (b - a) * H(p) / H(1),
            "rex" => b + (a - b) * (1 - p) / (0.5 + 0.5 * (1 - p)),
            _ => throw new ArgumentException(name),
        };
    }

    private static List<(long Step, int Task, string Phase, double Lr)> Reference(ScheduleConfig c, long[] tasks)
    {
        var rows = new List<(long, int, string, double)>();
        var kind = c.Kind;
        double max = c.MaxLr, cst = c.ConstLr, min = c.MinLr;
        long w = c.WarmupSteps, cd = c.CooldownSteps, total = tasks.Sum();
        (double, string) Main(long n) => kind switch
        {
            _ when n < w => ((kind == "constant" ? cst : max) * (n + 1) / w, "warmup"),
            "infinite" when n < w + cd => (Shape(c.CooldownShape, max, cst, (double)(n - w + 1) / cd), "cooldown"),
            "infinite" or "constant" => (cst, "constant"),
            "wsd" => (max, "stable"),
            _ when n < total => (Shape(kind, max, min, (double)(n - w + 1) / (total - w)), "decay"),
            _ => (min, "constant"),
        };
        long step = 0, n = 0;
        for (var t = 0; t < tasks.Length; t++)
        {
            var T = tasks[t];
            if (kind == "repeated-cosine")
            {
                for (long k = 0; k < T; k++, step++)
                    rows.Add(k < w ? (step, t, "warmup", max * (k + 1) / w)
                                   : (step, t, "decay", Shape("cosine", max, min, (double)(k - w + 1) / (T - w))));
                continue;
            }
            long a = c.AnnealSteps ?? (c.AnnealFraction is double f ? (long)Math.Floor((decimal)f * T + 0.5m) : 0);
            for (long i = 0; i < T - a; i++, step++, n++)
            {
                var (lr, phase) = Main(n);
                rows.Add((step, t, phase, lr));
            }
            var start = n == 0 ? min : Math.Max(Main(n - 1).Item1, min);
            var shape = c.AnnealShape ?? (kind == "wsd" ? "1-sqrt" : "exponential");
            for (long j = 0; j < a; j++, step++)
                rows.Add((step, t, kind == "wsd" ? "decay" : "anneal", Shape(shape, start, min, (double)(j + 1) / a)));
        }
        return rows;
    }

    [Fact]
    public void PlannerMatchesTheIndependentComputationFor500RandomConfigs()
    {
        var rng = new Random(20261122);
        var worst = 0.0;
        for (var c = 0; c < 500; c++)
        {
            var (config, tasks) = RandomSchedules.Next(rng);
            var want = Reference(config, tasks);
            var got = SchedulePlanner.Plan(config, tasks);
            Assert.Equal(want.Count, got.Count);
            for (var i = 0; i < got.Count; i++)
            {
                Assert.Equal((want[i].Step, want[i].Task, want[i].Phase), (got[i].Step, got[i].Task, got[i].Phase.Name()));
                var error = Math.Abs(got[i].LearningRate - want[i].Lr) / want[i].Lr;
                worst = Math.Max(worst, error);
                Assert.True(error <= 1e-12, $"case {c} row {i}: {got[i].LearningRate:R} vs {want[i].Lr:R}; {config}");
            }
        }
        Assert.True(worst <= 1e-12);
    }
}
