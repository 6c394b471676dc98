using Streaming.Grains.Telemetry;
using Streaming.Training.Checkpoints;
using Streaming.Training.Data;
using Streaming.Training.Engine;
using Streaming.Training.Loop;
using Streaming.Training.Model;
using Streaming.Schedules;

namespace Streaming.Grains;

/// <summary>A run's settings merged onto the silo's defaults, and checked. <see cref="Model"/>'s vocabulary is the silo
/// default's until the run's tokenizer replaces it (<see cref="GptConfig.ForTokenizer"/>).</summary>
public sealed record RunConfiguration(
    ScheduleConfig Schedule, double ReplayFraction, long Seed, long? MaxStepsPerTask, int EvaluateEvery,
    GptConfig Model, int BatchTokens, int? MicroBatchRows, string Precision, string? Init, TaskOrder Order)
{
    public static readonly IReadOnlyList<string> Precisions = ["auto", "fp32", "bf16"];

    /// <summary>Decay per step of the run's moving average of its weights; null: the run keeps none.</summary>
    public double? AverageDecay { get; init; }

    /// <summary>What each task end releases.</summary>
    public TaskRelease TaskRelease { get; init; }

    /// <summary>Tokens of one block: a batch and the one token that the batch's last row predicts.</summary>
    public int BlockTokens => BatchTokens + 1;

    /// <summary>Rows of one optimizer step's batch.</summary>
    public int BatchRows => BatchTokens / Model.Context;

    /// <summary>Applies <paramref name="settings"/> (null: none) to the silo's defaults; a bad value throws
    /// <see cref="ArgumentException"/> with one line.</summary>
    public static RunConfiguration From(StreamingOptions defaults, RunSettings? settings)
    {
        settings ??= new RunSettings();
        var schedule = defaults.Schedule;
        if (settings.Schedule is { } kind)
        {
            // The silo's anneal fraction belongs to its kind: a kind without branches must not inherit it.
            var branches = ScheduleKinds.Parse(kind)?.HasBranches() ?? true;
            schedule = schedule with { Kind = kind, AnnealFraction = branches ? schedule.AnnealFraction : null };
        }
        schedule = schedule with
        {
            MaxLr = settings.MaxLr ?? schedule.MaxLr,
            ConstLr = settings.ConstLr ?? schedule.ConstLr,
            MinLr = settings.MinLr ?? schedule.MinLr,
            WarmupSteps = settings.WarmupSteps ?? schedule.WarmupSteps,
            CooldownSteps = settings.CooldownSteps ?? schedule.CooldownSteps,
            AnnealFraction = settings.AnnealFraction ?? schedule.AnnealFraction,
            TotalSteps = settings.TotalSteps ?? schedule.TotalSteps,
        };
        var taskRelease = TaskReleaseOf(settings);
        // The average as each task's release replaces the paper-protocol branch: the main trajectory trains every block.
        if (taskRelease == TaskRelease.Average) schedule = schedule with { AnnealFraction = null };
        try
        {
            schedule.Validate();
        }
        catch (ScheduleConfigException e)
        {
            throw new ArgumentException($"schedule: {e.Message}");
        }
        var replay = settings.ReplayFraction ?? defaults.ReplayFraction;
        if (replay is < 0 or >= 1 || double.IsNaN(replay)) throw new ArgumentException($"replay fraction must be in [0, 1), not {replay}");
        if (settings.TaskSteps is < 1) throw new ArgumentException($"task steps must be at least 1, not {settings.TaskSteps}");
        var evaluateEvery = settings.EvaluateEvery ?? defaults.EvaluateEvery;
        if (evaluateEvery < 0) throw new ArgumentException($"evaluate-every must be 0 (off) or more, not {evaluateEvery}");

        var model = ModelOf(defaults.Model, settings);
        var batchTokens = settings.BatchTokens ?? Math.Max(model.Context, (defaults.BlockTokens - 1) / model.Context * model.Context);
        if (batchTokens < model.Context || batchTokens % model.Context != 0)
            throw new ArgumentException($"--batch-tokens {batchTokens} must be a positive multiple of the context {model.Context} (whole rows), e.g. {Math.Max(1, batchTokens / model.Context) * model.Context}");
        var rows = batchTokens / model.Context;
        if (settings.MicroBatchRows is int micro && (micro < 1 || micro > rows))
            throw new ArgumentException($"--micro-batch {micro} rows must be between 1 and the batch's {rows} rows ({batchTokens} tokens of context {model.Context})");
        var precision = settings.Precision ?? "auto";
        if (!Precisions.Contains(precision)) throw new ArgumentException($"--precision must be one of {string.Join(", ", Precisions)}, not '{precision}'");
        var order = settings.Order is { } name ? TaskOrders.Parse(name)
            ?? throw new ArgumentException($"--order must be one of {string.Join(", ", TaskOrders.Names)}, not '{name}'") : TaskOrder.Shuffled;
        return new RunConfiguration(schedule, replay, settings.Seed ?? 1, settings.TaskSteps, evaluateEvery, model, batchTokens, settings.MicroBatchRows, precision, settings.Init, order)
        {
            AverageDecay = AverageDecayOf(settings, taskRelease), TaskRelease = taskRelease,
        };
    }

    static TaskRelease TaskReleaseOf(RunSettings settings)
    {
        var release = settings.Release is null ? TaskRelease.Anneal
            : Enum.GetValues<TaskRelease>().Select(r => (TaskRelease?)r).FirstOrDefault(r => r!.Value.ToWire() == settings.Release)
              ?? throw new ArgumentException($"--release must be anneal, average or both, not '{settings.Release}'");
        if (release == TaskRelease.Average && settings.AnnealFraction is not null)
            throw new ArgumentException("--release average takes no anneal branch at task ends: leave out --anneal-fraction (or use --release both)");
        return release;
    }

    static double? AverageDecayOf(RunSettings settings, TaskRelease release)
    {
        var decay = settings.AverageDecay ?? (release == TaskRelease.Anneal ? null : RunSettings.DefaultAverageDecay);
        if (decay is double d && !(d > 0 && d < 1)) throw new ArgumentException($"--average-decay must be in (0, 1), not {d}");
        return decay;
    }

    /// <summary>The named shape (or the silo's model) with any explicit dimension over it.</summary>
    static GptConfig ModelOf(GptConfig silo, RunSettings settings)
    {
        var shape = silo;
        if (settings.Model is { } name && !GptConfig.Presets.TryGetValue(name, out shape))
            throw new ArgumentException($"unknown model '{name}' (one of {string.Join(", ", GptConfig.Presets.Keys)}, or give --layers --width --heads --context)");
        shape = shape with
        {
            Layers = settings.Layers ?? shape.Layers,
            Width = settings.Width ?? shape.Width,
            Heads = settings.Heads ?? shape.Heads,
            Context = settings.Context ?? shape.Context,
        };
        if (settings.Init is { } init) shape = PretrainedModel(init, settings, shape);
        return shape.Validate();
    }

    /// <summary>The model of --init's config.json; an explicit shape must be the file's, a context may be shorter.</summary>
    static GptConfig PretrainedModel(string init, RunSettings settings, GptConfig asked)
    {
        GptConfig file;
        try
        {
            file = HuggingFaceGpt2.ReadConfig(init);
        }
        catch (CheckpointException e)
        {
            throw new ArgumentException($"--init: {e.Message}");
        }
        var explicitShape = settings.Model is not null || settings.Layers is not null || settings.Width is not null || settings.Heads is not null;
        if (explicitShape && (asked.Layers, asked.Width, asked.Heads) != (file.Layers, file.Width, file.Heads))
            throw new ArgumentException($"--init '{init}' holds {file.Layers} layers, width {file.Width}, {file.Heads} heads, not the {asked.Layers}, {asked.Width}, {asked.Heads} asked for (leave out --model/--layers/--width/--heads to take the file's)");
        var context = settings.Context ?? file.Context;
        if (context > file.Context)
            throw new ArgumentException($"--context {context} is longer than the {file.Context} positions --init '{init}' has");
        return file with { Context = context };
    }

    /// <summary>Refuses, in one line that says what to change, a run whose training would not fit this silo's device
    /// (<paramref name="accelerator"/>: cuda or cpu): weights, gradients, two AdamW moments and one micro-batch's activations.</summary>
    public void CheckFits(GptConfig model, string accelerator, string run)
    {
        var cuda = accelerator == "cuda";
        var bf16 = Precision == "bf16" || (Precision == "auto" && cuda);
        var rows = MicroBatchRows ?? BatchRows;
        var need = TrainingMemory.Estimate(model, rows, bf16, fusedAttention: cuda, average: AverageDecay is not null);
        var (have, where) = cuda && GpuMemory.Read().FirstOrDefault() is { Total: > 0 } gpu
            ? ((double)gpu.Total, "GPU memory")
            : ((double)GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, "memory");
        if (need.TotalBytes <= 0.9 * have) return;
        var advice = rows > 1 ? $"a smaller --micro-batch (now {rows} rows), " : "";
        throw new ArgumentException($"run '{run}': training {model} ({need.Parameters / 1e6:F1}M parameters) with micro-batches of {rows} x {model.Context} tokens needs about " +
            $"{TrainingMemory.Text(need.TotalBytes)} (weights, gradients{(AverageDecay is null ? "" : ", weight average")} and AdamW moments {TrainingMemory.Text(need.StateBytes)}, activations {TrainingMemory.Text(need.ActivationBytes)}), " +
            $"more than 90% of this silo's {TrainingMemory.Text(have)} of {where}: use {advice}a shorter --context or a smaller --model");
    }

    /// <summary>The settings in one line, as `streaming run create` confirms them.</summary>
    public string Describe()
    {
        var s = Schedule;
        var anneal = s.AnnealFraction is { } f ? $", anneal fraction {f}" : "";
        var cap = MaxStepsPerTask is { } t ? $", at most {t} steps per task" : "";
        var horizon = s.TotalSteps is { } h ? $", horizon {h}" : "";
        var m = Model;
        var micro = MicroBatchRows is { } rows && rows < BatchRows ? $", micro-batches of {rows} rows" : "";
        var average = AverageDecay is { } d ? $"; weight average decay {d:G4}, releases at task ends: {TaskRelease.ToWire()}" : "";
        return $"{s.Kind} schedule (max {s.MaxLr:G4}, const {s.ConstLr:G4}, min {s.MinLr:G4}, warmup {s.WarmupSteps}, cooldown {s.CooldownSteps}{anneal}{horizon}), replay {ReplayFraction}, seed {Seed}{cap}, {Order.Name()} block order; " +
            $"model {m.Layers} layers, width {m.Width}, {m.Heads} heads, context {m.Context}; batch {BatchTokens:N0} tokens ({BatchRows} rows{micro}), precision {Precision}{average}";
    }
}
