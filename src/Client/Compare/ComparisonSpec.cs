using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Streaming.Grains;
using Streaming.Schedules;

namespace Streaming.Client.Compare;

/// <summary>A corpus of the stream: its label in the report (the file or folder name) and its full path.</summary>
public sealed record StreamCorpus(string Label, string Path);

/// <summary>A phase length the runs train with, and where it came from (given, or derived from the stream and why).</summary>
public sealed record PhaseLength(string Setting, long Steps, bool Derived, string Source)
{
    /// <summary>"1 step", "112 steps".</summary>
    public string StepsText => Steps == 1 ? "1 step" : $"{Steps:N0} steps";
}

/// <summary>One run of a comparison: a schedule kind and a seed, named after the comparison.</summary>
public sealed record ComparisonRun(string Name, string Schedule, long Seed, RunSettings Settings);

/// <summary>
/// What `streaming compare` was asked for: the stream (corpora in order), the schedules, steps per task, the paper
/// protocol's anneal fraction, replay, seeds and shared rates. Every run trains <see cref="StepsPerTask"/> steps on
/// every task (a branch schedule: T - A main steps and an A-step anneal branch; KIND+average: T main steps, the weight
/// average released at each task end), so all runs are compute-matched.
/// </summary>
public sealed record ComparisonSpec
{
    public required IReadOnlyList<StreamCorpus> Corpora { get; init; }
    public required IReadOnlyList<string> Schedules { get; init; }
    public required long StepsPerTask { get; init; }
    public double AnnealFraction { get; init; } = 0.15;
    public double Replay { get; init; }
    public int Seeds { get; init; } = 1;
    public double? MaxLr { get; init; }
    public double? ConstLr { get; init; }
    public double? MinLr { get; init; }
    public long? WarmupSteps { get; init; }
    public long? CooldownSteps { get; init; }
    public string? Tokenizer { get; init; }

    /// <summary>KIND+average schedules: the weight average's decay per step (null: <see cref="RunSettings.DefaultAverageDecay"/>).</summary>
    public double? AverageDecay { get; init; }

    public double EffectiveAverageDecay => AverageDecay ?? RunSettings.DefaultAverageDecay;

    /// <summary>Whether any compared schedule releases the weight average.</summary>
    public bool Averages => Schedules.Any(k => ComparedSchedule.Parse(k)!.Average);

    /// <summary>Main-trajectory steps between evaluations of the live model (null: a quarter of a task).</summary>
    public int? EvaluateEvery { get; init; }

    /// <summary>Names the runs and corpora in the cluster (null: from a hash of what the runs share, see <see cref="Name"/>).</summary>
    public string? GivenName { get; init; }

    public int EffectiveEvaluateEvery => EvaluateEvery ?? (int)Math.Max(1, StepsPerTask / 4);

    // The papers' set-up (Ibrahim et al. 2024): warm up for 1% of a task, and the infinite schedule's cooldown ends
    // (warmup included) at 60% of the first task, so that it trains at its constant rate well before the first release.
    public const double WarmupFraction = 0.01;
    public const double ConstantFromFraction = 0.6;

    /// <summary>Warmup steps of every run: given, or 1% of a task (at least one step).</summary>
    public PhaseLength Warmup => WarmupSteps is long given
        ? new("warmup", given, false, "--warmup")
        : new("warmup", Math.Max(1, Round(WarmupFraction * StepsPerTask)), true, $"derived: 1% of a task of {StepsPerTask:N0} steps, at least 1");

    /// <summary>The infinite schedule's cooldown: given, or what makes warmup and cooldown end at 60% of the first task.</summary>
    public PhaseLength Cooldown => CooldownSteps is long given
        ? new("cooldown", given, false, "--cooldown")
        : new("cooldown", Math.Max(0, Round(ConstantFromFraction * StepsPerTask) - Warmup.Steps), true,
            $"derived: the infinite schedule reaches its constant rate at 60% of the first task (step {Math.Max(Warmup.Steps, Round(ConstantFromFraction * StepsPerTask)):N0})");

    /// <summary>The phase lengths that matter to the compared schedules (the cooldown only to the infinite one).</summary>
    public IReadOnlyList<PhaseLength> PhaseLengths =>
        Schedules.Any(k => ComparedSchedule.Parse(k)!.Kind == ScheduleKind.Infinite) ? [Warmup, Cooldown] : [Warmup];

    static long Round(double steps) => (long)Math.Round(steps, MidpointRounding.AwayFromZero);

    /// <summary>
    /// The comparison's name: given, or cmp- and a hash of everything its runs share (the stream, steps, rates, ...)
    /// but not of the schedules and seeds, which name the runs. Running the same command again finds the same runs
    /// (and goes on with them after an interruption); adding a schedule or seeds adds runs to the same comparison.
    /// </summary>
    public string Name => GivenName ?? $"cmp-{Hash()}";

    public string CorpusName(StreamCorpus corpus) => $"{Name}.{corpus.Label}";

    /// <summary>Seed by seed, every schedule in turn: runs trained side by side are of different schedules, so their speeds compare.</summary>
    public IReadOnlyList<ComparisonRun> Runs() =>
        [.. Enumerable.Range(1, Seeds).SelectMany(seed => Schedules.Select(kind => new ComparisonRun($"{Name}.{ComparedSchedule.RunLabel(kind)}.seed{seed}", kind, seed, Settings(kind, seed))))];

    RunSettings Settings(string kind, long seed)
    {
        var parsed = ComparedSchedule.Parse(kind)!;
        return new RunSettings
        {
            Schedule = parsed.KindName,
            MaxLr = MaxLr, ConstLr = ConstLr, MinLr = MinLr, WarmupSteps = Warmup.Steps, CooldownSteps = Cooldown.Steps,
            AnnealFraction = parsed.HasBranches ? AnnealFraction : null,
            TotalSteps = parsed.Kind.IsSingleHorizon() ? StepsPerTask * Corpora.Count : null,
            Release = parsed.Average ? "average" : null,
            AverageDecay = parsed.Average ? EffectiveAverageDecay : null,
            ReplayFraction = Replay,
            Seed = seed,
            TaskSteps = StepsPerTask,
            EvaluateEvery = EffectiveEvaluateEvery,
        };
    }

    /// <summary>Checks what needs no silo; a mistake throws <see cref="UserError"/> with one line.</summary>
    public void Validate()
    {
        if (Corpora.Count < 2) throw new UserError("--corpora: give at least two corpora (a stream of tasks), separated by commas");
        foreach (var corpus in Corpora)
            if (!File.Exists(corpus.Path) && !Directory.Exists(corpus.Path)) throw new UserError($"--corpora: corpus path not found: {corpus.Path}");
        if (Corpora.GroupBy(c => c.Label).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new UserError($"--corpora: two corpora are named '{twice.Key}' (the file or folder name); rename one");
        if (Schedules.Count == 0) throw new UserError("--schedules: give at least one schedule kind");
        foreach (var kind in Schedules)
            if (ComparedSchedule.Parse(kind) is null)
                throw new UserError($"--schedules: unknown schedule kind '{kind}' (one of {ComparedSchedule.Names})");
        if (Schedules.Select(ComparedSchedule.RunLabel).Distinct().Count() != Schedules.Count)
            throw new UserError("--schedules: a schedule is named twice");
        if (StepsPerTask < 1) throw new UserError($"--steps-per-task must be at least 1, not {StepsPerTask}");
        if (!(AnnealFraction >= 0 && AnnealFraction < 1)) throw new UserError($"--anneal-fraction must be in [0, 1), not {AnnealFraction}");
        if (!(Replay >= 0 && Replay < 1)) throw new UserError($"--replay must be a fraction in [0, 1), not {Replay}");
        if (Seeds < 1) throw new UserError($"--seeds must be at least 1, not {Seeds}");
        if (AverageDecay is { } decay && !(decay > 0 && decay < 1)) throw new UserError($"--average-decay must be in (0, 1), not {decay}");
        foreach (var kind in Schedules) ShowsItsShape(ComparedSchedule.Parse(kind)!);
        if (EvaluateEvery is < 0) throw new UserError($"--evaluate-every must be 0 (off) or more, not {EvaluateEvery}");
        if (GivenName is not null && !NameRule.IsValid(GivenName))
            throw new UserError($"--name '{GivenName}': use letters, digits, '.', '_' and '-', starting with a letter or digit");
        var longest = Runs().Select(r => r.Name).Concat(Corpora.Select(CorpusName)).MaxBy(n => n.Length)!;
        if (!NameRule.IsValid(longest))
            throw new UserError($"'{longest}' is not a valid run or corpus name (letters, digits, '.', '_', '-'; at most 100): rename the corpus or shorten --name");
    }

    /// <summary>
    /// Refuses phase lengths with which a schedule could not take its intended shape within this stream: an infinite
    /// schedule still cooling down at its first release would be compared at almost its peak rate, a repeated cosine
    /// that spends most of each task re-warming never decays.
    /// </summary>
    void ShowsItsShape(ComparedSchedule schedule)
    {
        var (w, c, t) = (Warmup.Steps, Cooldown.Steps, StepsPerTask);
        var kind = schedule.Kind;
        var main = t - (schedule.HasBranches ? new ScheduleConfig { AnnealFraction = AnnealFraction }.AnnealStepsFor(t) : 0);
        var derive = Warmup.Derived && Cooldown.Derived ? "" : ", or leave --warmup and --cooldown out to derive them from the stream";
        switch (kind)
        {
            case ScheduleKind.Infinite when w + c > main:
                throw new UserError($"the infinite schedule would reach its constant rate at step {w + c:N0} (--warmup {w} + --cooldown {c}), after the " +
                    $"{main:N0} main-trajectory steps of its first task, so this comparison cannot show its shape: " +
                    (w <= main ? $"give --cooldown at most {main - w:N0}" : $"give --warmup and --cooldown that add up to at most {main:N0}") + derive);
            case ScheduleKind.Wsd when w > main:
                throw new UserError($"the wsd schedule would still be warming up at its first anneal branch (--warmup {w}, {main:N0} main-trajectory steps " +
                    $"in a task): give --warmup at most {main:N0}{derive}");
            case ScheduleKind.RepeatedCosine or ScheduleKind.Constant when 2 * w > t:
                throw new UserError($"the {kind.Name()} schedule would spend more of each task warming up than after it (--warmup {w} of {t:N0} steps), " +
                    $"so this comparison cannot show its shape: give --warmup at most {t / 2:N0}{derive}");
        }
    }

    string Hash()
    {
        object?[] settings = [StepsPerTask, AnnealFraction, Replay, MaxLr, ConstLr, MinLr, Warmup.Steps, Cooldown.Steps, Tokenizer, EffectiveEvaluateEvery];
        // Given only: comparisons named before the average existed keep their names.
        if (AverageDecay is { } decay) settings = [.. settings, decay];
        var shared = string.Join("\n", Corpora.Select(c => c.Path).Concat(settings.Select(s => Convert.ToString(s, CultureInfo.InvariantCulture))));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(shared)))[..8];
    }
}
