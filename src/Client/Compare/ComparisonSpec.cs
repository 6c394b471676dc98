using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Streaming.Grains;
using Streaming.Training.Data;
using Streaming.Training.Schedules;

namespace Streaming.Client.Compare;

/// <summary>A corpus of the stream: its label in the report (the file or folder name) and its full path.</summary>
public sealed record StreamCorpus(string Label, string Path);

/// <summary>One run of a comparison: a schedule kind and a seed, named after the comparison.</summary>
public sealed record ComparisonRun(string Name, string Schedule, long Seed, RunSettings Settings);

/// <summary>
/// What `streaming compare` was asked for: the stream (corpora in order), the schedules, steps per task, the paper
/// protocol's anneal fraction, replay, seeds and shared rates. Every run trains <see cref="StepsPerTask"/> steps on
/// every task (a branch schedule: T - A main steps and an A-step anneal branch), so all runs are compute-matched.
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

    /// <summary>Main-trajectory steps between evaluations of the live model (null: a quarter of a task).</summary>
    public int? EvaluateEvery { get; init; }

    /// <summary>Names the runs and corpora in the cluster (null: from a hash of what the runs share, see <see cref="Name"/>).</summary>
    public string? GivenName { get; init; }

    public int EffectiveEvaluateEvery => EvaluateEvery ?? (int)Math.Max(1, StepsPerTask / 4);

    /// <summary>
    /// The comparison's name: given, or cmp- and a hash of everything its runs share (the stream, steps, rates, ...)
    /// but not of the schedules and seeds, which name the runs. Running the same command again finds the same runs
    /// (and goes on with them after an interruption); adding a schedule or seeds adds runs to the same comparison.
    /// </summary>
    public string Name => GivenName ?? $"cmp-{Hash()}";

    public string CorpusName(StreamCorpus corpus) => $"{Name}.{corpus.Label}";

    /// <summary>Seed by seed, every schedule in turn: runs trained side by side are of different schedules, so their speeds compare.</summary>
    public IReadOnlyList<ComparisonRun> Runs() =>
        [.. Enumerable.Range(1, Seeds).SelectMany(seed => Schedules.Select(kind => new ComparisonRun($"{Name}.{kind}.seed{seed}", kind, seed, Settings(kind, seed))))];

    RunSettings Settings(string kind, long seed)
    {
        var parsed = ScheduleKinds.Parse(kind)!.Value;
        return new RunSettings
        {
            Schedule = kind,
            MaxLr = MaxLr, ConstLr = ConstLr, MinLr = MinLr, WarmupSteps = WarmupSteps, CooldownSteps = CooldownSteps,
            AnnealFraction = parsed.HasBranches() ? AnnealFraction : null,
            TotalSteps = parsed.IsSingleHorizon() ? StepsPerTask * Corpora.Count : null,
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
            if (ScheduleKinds.Parse(kind) is null)
                throw new UserError($"--schedules: unknown schedule kind '{kind}' (one of {string.Join(", ", ScheduleKinds.AllNames)})");
        if (Schedules.Distinct().Count() != Schedules.Count) throw new UserError("--schedules: a schedule is named twice");
        if (StepsPerTask < 1) throw new UserError($"--steps-per-task must be at least 1, not {StepsPerTask}");
        if (!(AnnealFraction >= 0 && AnnealFraction < 1)) throw new UserError($"--anneal-fraction must be in [0, 1), not {AnnealFraction}");
        if (!(Replay >= 0 && Replay < 1)) throw new UserError($"--replay must be a fraction in [0, 1), not {Replay}");
        if (Seeds < 1) throw new UserError($"--seeds must be at least 1, not {Seeds}");
        if (EvaluateEvery is < 0) throw new UserError($"--evaluate-every must be 0 (off) or more, not {EvaluateEvery}");
        if (GivenName is not null && !CorpusIngestor.IsValidName(GivenName))
            throw new UserError($"--name '{GivenName}': use letters, digits, '.', '_' and '-', starting with a letter or digit");
        var longest = Runs().Select(r => r.Name).Concat(Corpora.Select(CorpusName)).MaxBy(n => n.Length)!;
        if (!CorpusIngestor.IsValidName(longest))
            throw new UserError($"'{longest}' is not a valid run or corpus name (letters, digits, '.', '_', '-'; at most 100): rename the corpus or shorten --name");
    }

    string Hash()
    {
        object?[] settings = [StepsPerTask, AnnealFraction, Replay, MaxLr, ConstLr, MinLr, WarmupSteps, CooldownSteps, Tokenizer, EffectiveEvaluateEvery];
        var shared = string.Join("\n", Corpora.Select(c => c.Path).Concat(settings.Select(s => Convert.ToString(s, CultureInfo.InvariantCulture))));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(shared)))[..8];
    }
}
