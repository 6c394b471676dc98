using System.Reflection;
using Streaming.Grains;

namespace Streaming.Integration.Tests.Persistence;

/// <summary>
/// One realistic value of every type the grains persist, with non-empty collections of every kind the code puts
/// in them (lists, dictionaries, arrays, the compiler's types behind collection expressions), and the list of
/// what the grains persist, read off their constructors, so that a new state type without a sample fails.
/// </summary>
static class GrainStateSamples
{
    /// <summary>Every <c>[PersistentState]</c> of Streaming's grains: its state name and type.</summary>
    public static IReadOnlyList<(string Name, Type Type)> Persisted() =>
        [.. typeof(TrainerGrain).Assembly.GetTypes()
            .Where(t => typeof(Grain).IsAssignableFrom(t))
            .SelectMany(t => t.GetConstructors().SelectMany(c => c.GetParameters()))
            .Select(p => (Attribute: p.GetCustomAttribute<PersistentStateAttribute>(), p.ParameterType))
            .Where(p => p.Attribute is not null)
            .Select(p => (p.Attribute!.StateName, p.ParameterType.GetGenericArguments().Single()))
            .Distinct()];

    public static readonly IReadOnlyDictionary<Type, object> ByType = new Dictionary<Type, object>
    {
        [typeof(RunState)] = Run(),
        [typeof(CorpusState)] = new CorpusState { Source = "/data/in/german.jsonl", Blocks = 194, Tokens = 791_584, Runs = ["demo", "cmp-1a2b.infinite.seed1"] },
        [typeof(EvaluationState)] = Evaluation(),
        [typeof(SortedSet<string>)] = new SortedSet<string> { "demo", "cmp-1a2b.infinite.seed1", "cmp-1a2b.repeated-cosine.seed1" },
    };

    static RunState Run() => new()
    {
        Corpora = [new CorpusInfo("english", "/data/in/english.jsonl", 214, 876_544), new CorpusInfo("german", "/data/in/german.jsonl", 194, 791_584)],
        Checkpoint = "/data/runs/demo/checkpoints/step-00000450",
        AnnealsRequested = 2,
        PendingAnnealSteps = 29,
        Tokenizer = "cl100k_base",
        Settings = new RunSettings
        {
            Schedule = "infinite", MaxLr = 3e-4, ConstLr = 1.65e-4, MinLr = 3e-5, WarmupSteps = 20, CooldownSteps = 150, AnnealFraction = 0.15,
            ReplayFraction = 0.25, Seed = 7, TaskSteps = 190, TotalSteps = 1000, EvaluateEvery = 50, Order = "shuffled",
        },
        Order = "shuffled",
    };

    static EvaluationState Evaluation()
    {
        // The shapes the training library hands over: a collection expression (the type that broke restarts),
        // an array, a list.
        IReadOnlyList<string> expression = ["english", "german"];
        var release = new SnapshotRef("/data/runs/demo/releases/german-step-00000408", "task-release", "german", 408, expression);
        var main = new SnapshotRef("/data/runs/demo/snapshots/main-step-00000300", "main", "german", 300, new[] { "english", "german" });
        var failed = new SnapshotRef("/data/runs/demo/releases/on-demand-1-step-00000310", "on-demand-release", "german", 310, new List<string> { "english" });
        return new EvaluationState
        {
            Done =
            [
                new EvaluatedSnapshot(release, new Dictionary<string, double> { ["english"] = 2.667, ["german"] = 2.346 }, null),
                // A diverged model's loss is not a number: it must survive too.
                new EvaluatedSnapshot(main, new Dictionary<string, double> { ["english"] = double.NaN, ["german"] = double.PositiveInfinity }, null),
                new EvaluatedSnapshot(failed, new Dictionary<string, double>(), "checkpoint /data/runs/demo/releases/on-demand-1-step-00000310 is damaged: model.bin hash differs"),
            ],
            Pending = [main with { Path = "/data/runs/demo/snapshots/main-step-00000400", Step = 400 }],
        };
    }
}
