using System.CommandLine;
using Streaming.Grains;
using Streaming.Schedules;

namespace Streaming.Client.Commands;

/// <summary>
/// `streaming run create R [--kind K] [--max-lr X] ... [--replay F] [--seed N] [--task-steps N] [--total-steps N]
/// [--evaluate-every N] [--order shuffled|file]`: a run with its own schedule, replay, seed, steps per task, evaluation cadence and
/// block order, before its first corpus. Unset flags keep the silo's defaults.
/// </summary>
public static class RunCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("run") { Description = "The run's name" };
        var kind = TextOptions.Create("--kind", $"Schedule kind: {string.Join(", ", ScheduleKinds.AllNames)}", null);
        var rates = new RateOptions(showDefaults: false);
        var annealFraction = TextOptions.Create("--anneal-fraction", "Paper protocol: each task ends with an anneal branch of this fraction of its steps", null);
        var replay = TextOptions.Create("--replay", "Replay mixing: fraction of every batch drawn from earlier corpora, in [0, 1)", null);
        var seed = TextOptions.Create("--seed", "Seed of the initial weights, of replay draws and of each task's block order", null);
        var taskSteps = TextOptions.Create("--task-steps", "Train at most this many steps (blocks) of each corpus", null);
        var totalSteps = TextOptions.Create("--total-steps", "Single-horizon kinds (cosine, linear, inverse-sqrt, rex): the horizon in steps, warmup included", null);
        var evaluateEvery = TextOptions.Create("--evaluate-every", "Main-trajectory steps between evaluations of the live model (0: only task ends and releases)", null);
        var model = TextOptions.Create("--model", $"Model shape: {string.Join(", ", SiloNames.ModelPresets)} (the vocabulary follows the tokenizer) [default: the silo's, tiny]", null);
        var layers = TextOptions.Create("--layers", "Transformer blocks (over --model's)", null);
        var width = TextOptions.Create("--width", "Embedding width (over --model's)", null);
        var heads = TextOptions.Create("--heads", "Attention heads, dividing the width (over --model's)", null);
        var context = TextOptions.Create("--context", "Tokens per row: the longest sequence the model sees (over --model's)", null);
        var batchTokens = TextOptions.Create("--batch-tokens", "Tokens per optimizer step, a multiple of the context [default: the silo's block, 4096]", null);
        var microBatch = TextOptions.Create("--micro-batch", "Rows per forward/backward pass; the passes of a step accumulate their gradients [default: the whole batch]", null);
        var precision = TextOptions.Create("--precision", "auto (bf16 on CUDA, fp32 on CPU), fp32 or bf16; weights and AdamW moments stay fp32", null);
        var init = TextOptions.Create("--init", "Start from pretrained weights: a folder with model.safetensors and config.json in the Hugging Face GPT-2 layout (read by the silo); the shape is the file's", null);
        var order = TextOptions.Create("--order", "Order of each task's blocks: shuffled (seeded by --seed and the corpus name) or file (as ingested) [default: shuffled]", null);
        var averageDecay = TextOptions.Create("--average-decay", $"Keep a moving average of the weights with this decay per step, in (0, 1) [default: none; {RunSettings.DefaultAverageDecay} when --release needs one]", null);
        var release = TextOptions.Create("--release", "What each task end releases: anneal (the paper-protocol branch, or the task's end without one), average (the weight average; no branch) or both [default: anneal]", null);
        var tokenizer = new Option<string?>("--tokenizer") { Description = $"The run's tokenizer: {string.Join(", ", SiloNames.Tokenizers)} [default: the silo's, byte]" };
        var create = new Command("create", "Create a run with its own model, batch, precision, tokenizer, schedule, replay, seed, steps per task and block order (before its first corpus)")
        {
            name, kind,
        };
        foreach (var option in rates.All.Concat([annealFraction, replay, seed, taskSteps, totalSteps, evaluateEvery,
            model, layers, width, heads, context, batchTokens, microBatch, precision, init, order, averageDecay, release, tokenizer, CommonOptions.Gateway, CommonOptions.Credentials])) create.Options.Add(option);
        create.TreatUnmatchedTokensAsErrors = false;
        create.SetAction((parse, cancellation) => CommonOptions.Guard(async () =>
        {
            RunSettings settings;
            try
            {
                if (parse.UnmatchedTokens.Count > 0)
                    throw new ScheduleConfigException($"unknown argument '{parse.UnmatchedTokens[0]}' (see streaming run create --help)");
                settings = new RunSettings
                {
                    Schedule = TextOptions.Text(parse, kind),
                    MaxLr = rates.MaxLr(parse),
                    ConstLr = rates.ConstLr(parse),
                    MinLr = rates.MinLr(parse),
                    WarmupSteps = rates.WarmupSteps(parse),
                    CooldownSteps = rates.CooldownSteps(parse),
                    AnnealFraction = TextOptions.OptionalNumber(parse, annealFraction),
                    ReplayFraction = TextOptions.OptionalNumber(parse, replay),
                    Seed = TextOptions.Count(parse, seed),
                    TaskSteps = TextOptions.Count(parse, taskSteps),
                    TotalSteps = TextOptions.Count(parse, totalSteps),
                    EvaluateEvery = TextOptions.SmallCount(parse, evaluateEvery),
                    Model = TextOptions.Text(parse, model),
                    Layers = TextOptions.SmallCount(parse, layers),
                    Width = TextOptions.SmallCount(parse, width),
                    Heads = TextOptions.SmallCount(parse, heads),
                    Context = TextOptions.SmallCount(parse, context),
                    BatchTokens = TextOptions.SmallCount(parse, batchTokens),
                    MicroBatchRows = TextOptions.SmallCount(parse, microBatch),
                    Precision = TextOptions.Text(parse, precision),
                    Init = TextOptions.Text(parse, init) is { } path ? Path.GetFullPath(path) : null,
                    Order = TextOptions.Text(parse, order),
                    AverageDecay = TextOptions.OptionalNumber(parse, averageDecay),
                    Release = TextOptions.Text(parse, release),
                };
            }
            catch (ScheduleConfigException e)
            {
                throw new UserError(e.Message);
            }
            await using var silo = await SiloConnection.ConnectAsync(CommonOptions.Target(parse), cancellation);
            var run = parse.GetValue(name)!;
            var trainer = silo.Client.GetGrain<ITrainerGrain>(run);
            // The tokenizer first: the model's vocabulary (and so its memory) follows it.
            if (parse.GetValue(tokenizer) is { } chosen) await CommonOptions.Call(() => trainer.UseTokenizerAsync(chosen));
            var description = await CommonOptions.Call(() => trainer.ConfigureAsync(settings));
            Console.WriteLine($"run {run}: {description}; queue corpora with `streaming ingest --run {run} PATH`");
            return 0;
        }));
        return new Command("run", "Manage runs") { create };
    }
}
