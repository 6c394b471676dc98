using Streaming.Training.Checkpoints;
using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Training.Engine;

/// <summary>How a <see cref="ModelTrainer"/> computes.</summary>
public sealed record TrainerOptions
{
    /// <summary>Rows per forward/backward pass: a step's batch is cut into chunks of this many rows (the last may be
    /// shorter) whose gradients accumulate, each weighted by its share of the batch's targets, so the update is the
    /// whole batch's. Null: the whole batch in one pass.</summary>
    public int? MicroBatchRows { get; init; }

    /// <summary>auto (bf16 compute on CUDA, fp32 on CPU), fp32 or bf16. Master weights and moments are always fp32.</summary>
    public string Precision { get; init; } = "auto";

    /// <summary>Seed of the initial weights (a private generator; torch's global one is not touched).</summary>
    public long Seed { get; init; } = 1337;

    /// <summary>Decay per step of an exponential moving average of the weights kept beside them (see <see cref="WeightAverage"/>);
    /// null: none, and no memory for one.</summary>
    public double? AverageDecay { get; init; }
}

/// <summary>
/// Owns a <see cref="Gpt"/> and its <see cref="FlatAdamW"/> on one device. Not thread-safe, and bound to
/// one thread: the first thread that trains, evaluates, saves or loads owns it (TorchSharp dispose scopes
/// and libtorch's grad mode are per thread); calls from another thread throw. Every step runs in its own
/// dispose scope, so memory stays flat over any number of steps.
/// </summary>
public sealed class ModelTrainer : IDisposable
{
    const string TrainerPart = "trainer";
    readonly Gpt model;
    readonly FlatAdamW optimizer;
    readonly WeightAverage? average;
    int ownerThread;

    /// <summary>The model shape.</summary>
    public GptConfig ModelConfig { get; }
    /// <summary>Optimizer settings; may be changed between steps.</summary>
    public AdamWConfig OptimizerConfig { get => optimizer.Config; set => optimizer.Config = value.Validate(); }
    /// <summary>Trainer settings.</summary>
    public TrainerOptions Options { get; }
    /// <summary>The device everything lives on.</summary>
    public Device Device { get; }
    /// <summary>dtype of the weights used in forward/backward (BFloat16 or Float32).</summary>
    public ScalarType ComputeType { get; }
    /// <summary>Optimizer steps taken so far (restored by <see cref="Load"/>).</summary>
    public long Step => optimizer.Steps;
    /// <summary>The model, e.g. for inspection or sampling (its parameters are views into the optimizer's buffers).</summary>
    public Gpt Model => model;
    /// <summary>The optimizer.</summary>
    public FlatAdamW Optimizer => optimizer;
    /// <summary>The moving average of the weights, updated after every step taken; null when <see cref="TrainerOptions.AverageDecay"/> is.</summary>
    public WeightAverage? Average => average;
    /// <summary>Global gradient norm before clipping at the last step (waits for the device).</summary>
    public float LastGradNorm { get { CheckThread(); return optimizer.GradNorm.item<float>(); } }

    /// <summary>Builds the model (seeded GPT-2 init on the CPU, then moved) and the optimizer on <paramref name="device"/> (CPU if null).</summary>
    public ModelTrainer(GptConfig modelConfig, AdamWConfig optimizerConfig, TrainerOptions? options = null, Device? device = null)
    {
        ModelConfig = modelConfig.Validate();
        Options = options ?? new TrainerOptions();
        if (Options.MicroBatchRows is < 1) throw new ArgumentException($"micro-batch rows must be at least 1, not {Options.MicroBatchRows}");
        if (Options.AverageDecay is double decay) WeightAverage.CheckDecay(decay);
        Device = device ?? torch.CPU;
        ComputeType = Options.Precision.ToLowerInvariant() switch
        {
            "auto" => Device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32,
            "fp32" or "float32" => ScalarType.Float32,
            "bf16" or "bfloat16" => ScalarType.BFloat16,
            _ => throw new ArgumentException($"precision must be auto, fp32 or bf16, not '{Options.Precision}'"),
        };
        model = new Gpt(ModelConfig, Options.Seed);
        model.to(Device);
        optimizer = new FlatAdamW(model, optimizerConfig, ComputeType);
        average = Options.AverageDecay is double d ? new WeightAverage(optimizer.FlatMaster, d) : null;
        model.train();
    }

    /// <summary>One optimizer step on a batch (inputs/targets int64 [B, T]); returns the mean loss (waits for the device).</summary>
    public float TrainStep(Tensor inputs, Tensor targets, double learningRate)
    {
        using var loss = TrainStepDeferred(inputs, targets, learningRate);
        return loss.item<float>();
    }

    /// <summary>
    /// One optimizer step without any device-to-host wait: forward/backward over the micro-batches,
    /// clipping, AdamW. Returns the mean loss as a 0-d fp32 device tensor that the caller disposes
    /// (read it when needed: item() waits for the device).
    /// </summary>
    public Tensor TrainStepDeferred(Tensor inputs, Tensor targets, double learningRate)
    {
        using var scope = torch.NewDisposeScope();
        var total = Backward(inputs, targets);
        StepAndAverage(learningRate);
        return total.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One optimizer step, unless the loss or the gradient is NaN or infinite: then the step is skipped, the weights and
    /// the optimizer's moments stay as they were (a NaN there would poison every later step), and <c>Skipped</c> is
    /// true. Costs one device-to-host read of the loss and the gradient's norm, which the caller reads anyway.
    /// </summary>
    public (float Loss, bool Skipped) TrainStepUnlessNonFinite(Tensor inputs, Tensor targets, double learningRate)
    {
        using var scope = torch.NewDisposeScope();
        var total = Backward(inputs, targets);
        var read = torch.stack([total, optimizer.GradientNorm()]).cpu().data<float>().ToArray();
        if (!float.IsFinite(read[0]) || !float.IsFinite(read[1]))
        {
            optimizer.ZeroGrad();
            return (read[0], true);
        }
        StepAndAverage(learningRate);
        return (read[0], false);
    }

    /// <summary>The optimizer's step, then the average's (a skipped step updates neither).</summary>
    void StepAndAverage(double learningRate)
    {
        optimizer.Step(learningRate);
        average?.Update(optimizer.FlatMaster);
    }

    /// <summary>Forward and backward over the micro-batches into fresh gradients; the mean loss as a 0-d fp32 device tensor
    /// in the caller's dispose scope.</summary>
    Tensor Backward(Tensor inputs, Tensor targets)
    {
        CheckThread();
        CheckBatch(inputs, targets);
        using var grad = torch.enable_grad();
        optimizer.ZeroGrad();
        var total = torch.zeros(Array.Empty<long>(), ScalarType.Float32, Device);
        foreach (var (x, y, share) in MicroBatches(inputs, targets))
        {
            using var inner = torch.NewDisposeScope();
            var loss = model.Loss(x, y) * share;
            loss.backward();
            using (torch.no_grad()) total.add_(loss.detach(), KeptScalars.One);
        }
        return total;
    }

    /// <summary>Mean loss of the model on a batch, without gradients (micro-batched like training).</summary>
    public float Evaluate(Tensor inputs, Tensor targets)
    {
        CheckThread();
        CheckBatch(inputs, targets);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        model.eval();
        try
        {
            var total = torch.zeros(Array.Empty<long>(), ScalarType.Float32, Device);
            foreach (var (x, y, share) in MicroBatches(inputs, targets)) total.add_(model.Loss(x, y) * share, KeptScalars.One);
            return total.item<float>();
        }
        finally { model.train(); }
    }

    /// <summary>
    /// Writes a checkpoint: fp32 master weights, moments and step, the weight average (if kept), and the caller's JSON parts (schedule, data
    /// cursors, sampler ...). Atomic; see <see cref="Checkpoint"/>. Not libtorch's CPU random state: it is the whole
    /// process's, drawn by every run and evaluator in it, so saving it made checkpoints differ with what ran beside
    /// them (the fault suite found it); training draws nothing from it (weights are initialized from their own seeded
    /// generator, dropout is 0 for pre-training).
    /// </summary>
    public CheckpointManifest Save(string directory, CheckpointParts? parts = null, bool overwrite = false)
    {
        CheckThread();
        using var scope = torch.NewDisposeScope();
        return Write(directory, parts, overwrite, optimizer.MasterWeights(), average?.StateDict());
    }

    /// <summary>Writes a release whose weights are the moving average (the optimizer's state beside them, as in any release,
    /// so the evaluators and exports read it like one). Throws when the trainer keeps no average.</summary>
    public CheckpointManifest SaveAverage(string directory, CheckpointParts? parts = null, bool overwrite = false)
    {
        CheckThread();
        if (average is null) throw new InvalidOperationException("this trainer keeps no weight average");
        using var scope = torch.NewDisposeScope();
        return Write(directory, parts, overwrite, optimizer.Named(average.Flat), null);
    }

    /// <summary>About how many bytes <see cref="Save"/> writes (the tensors' data; names and JSON parts are small), for a
    /// caller that must wait for that much room.</summary>
    public long SaveBytes()
    {
        CheckThread();
        using var scope = torch.NewDisposeScope();
        return new[] { optimizer.MasterWeights(), optimizer.StateDict(), average?.StateDict() ?? [] }
            .SelectMany(tensors => tensors.Values).Sum(t => t.numel() * t.element_size());
    }

    CheckpointManifest Write(string directory, CheckpointParts? parts, bool overwrite, Dictionary<string, Tensor> weights, Dictionary<string, Tensor>? averageState)
    {
        var state = optimizer.StateDict();
        var all = new CheckpointParts();
        foreach (var name in parts?.Names ?? [])
        {
            if (name == TrainerPart) throw new ArgumentException($"checkpoint part name '{TrainerPart}' is reserved by the trainer");
            all.SetJson(name, parts!.GetJson(name).Span);
        }
        all.Set(TrainerPart, new TrainerRecord(OptimizerConfig, Options, ComputeType.ToString()));
        return Checkpoint.Save(directory, ModelConfig, Step, weights, state, all, overwrite, averageState);
    }

    /// <summary>Starts from pretrained weights in the Hugging Face GPT-2 layout (see <see cref="HuggingFaceGpt2"/>); only before
    /// the first step. Throws <see cref="CheckpointException"/> with one line for a file that does not fit this model.</summary>
    public void LoadPretrained(string path)
    {
        CheckThread();
        if (Step > 0) throw new InvalidOperationException($"pretrained weights load before the first step, not at step {Step}");
        var weights = HuggingFaceGpt2.ReadWeights(path, ModelConfig);
        try
        {
            optimizer.LoadMasterWeights(weights);
            average?.Restart(optimizer.FlatMaster);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Restores weights, optimizer state, step and the weight average from a checkpoint of the same model shape and returns
    /// its parts (the trainer's own part removed). Throws <see cref="CheckpointException"/> for another model
    /// shape or a damaged file; the trainer is unchanged then.
    /// </summary>
    public CheckpointParts Load(string directory)
    {
        CheckThread();
        using var loaded = Checkpoint.Load(directory, ModelConfig, Device);
        if (loaded.Optimizer.Count == 0) throw new CheckpointException($"checkpoint '{directory}' holds no optimizer state; it cannot resume training");
        try
        {
            optimizer.LoadMasterWeights(loaded.Model);
            optimizer.LoadStateDict(loaded.Optimizer);
            // A checkpoint from before the run kept an average (or from an older version) starts one from its weights.
            if (average is not null && loaded.Average.Count > 0) average.LoadStateDict(loaded.Average);
            else average?.Restart(optimizer.FlatMaster);
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException($"checkpoint '{directory}' does not fit this model: {e.Message}", e);
        }
        var parts = new CheckpointParts();
        foreach (var name in loaded.Parts.Names.Where(n => n != TrainerPart)) parts.SetJson(name, loaded.Parts.GetJson(name).Span);
        return parts;
    }

    /// <summary>The padding target as a Scalar that is never finalized (see <see cref="KeptScalars"/>).</summary>
    static readonly Scalar IgnoreIndex = Loop.BlockBatch.IgnoreIndex.ToScalar();

    /// <summary>
    /// The batch on the device in chunks of <see cref="TrainerOptions.MicroBatchRows"/> rows, each with its share of the
    /// batch's targets (padded ones do not count) as a 0-d device tensor: the shares' weighted sum of the chunks' mean
    /// losses is the whole batch's mean loss, with no wait for the device.
    /// </summary>
    IEnumerable<(Tensor Inputs, Tensor Targets, Tensor Share)> MicroBatches(Tensor inputs, Tensor targets)
    {
        var x = inputs.to(Device);
        var y = targets.to(Device);
        var rows = Options.MicroBatchRows is int r && r < x.shape[0] ? r : (int)x.shape[0];
        if (rows == x.shape[0])
        {
            yield return (x, y, torch.ones(Array.Empty<long>(), ScalarType.Float32, Device));
            yield break;
        }
        var counted = y.ne(IgnoreIndex).sum().to(ScalarType.Float32);
        var xs = x.split(rows, 0);
        var ys = y.split(rows, 0);
        for (var i = 0; i < xs.Length; i++)
            yield return (xs[i], ys[i], ys[i].ne(IgnoreIndex).sum().to(ScalarType.Float32) / counted);
    }

    void CheckThread()
    {
        var current = Environment.CurrentManagedThreadId;
        var owner = Interlocked.CompareExchange(ref ownerThread, current, 0);
        if (owner != 0 && owner != current)
            throw new InvalidOperationException($"ModelTrainer is bound to managed thread {owner}; it was called from thread {current}");
    }

    void CheckBatch(Tensor inputs, Tensor targets)
    {
        if (inputs.dim() != 2 || !inputs.shape.SequenceEqual(targets.shape))
            throw new ArgumentException($"inputs and targets must both be [B, T]; got [{string.Join(",", inputs.shape)}] and [{string.Join(",", targets.shape)}]");
        if (inputs.dtype != ScalarType.Int64 || targets.dtype != ScalarType.Int64)
            throw new ArgumentException("inputs and targets must be int64 token ids");
        if (inputs.shape[1] > ModelConfig.Context)
            throw new ArgumentException($"sequence length {inputs.shape[1]} exceeds the model context {ModelConfig.Context}");
    }

    /// <summary>Frees the model and the optimizer's buffers.</summary>
    public void Dispose()
    {
        model.Dispose();
        optimizer.Dispose();
        average?.Dispose();
    }

    sealed record TrainerRecord(AdamWConfig Optimizer, TrainerOptions Options, string ComputeType);
}
