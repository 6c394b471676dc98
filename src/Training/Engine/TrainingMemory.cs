using Streaming.Training.Model;

namespace Streaming.Training.Engine;

/// <summary>
/// What training a model needs in device memory, estimated before a run starts so that a run that cannot fit is
/// refused with advice instead of failing out of memory in its training thread. Weights, gradients and the two
/// AdamW moments take 16 bytes a parameter in both precisions (fp32: master = compute weights, fp32 gradients; bf16:
/// fp32 master, bf16 compute copy and gradients), and a weight average 4 more (one fp32 copy). Activations kept for the backward pass, per token of one
/// micro-batch: about 20 x width values per layer (LayerNorm outputs, QKV, attention output, the 4x MLP before and
/// after GELU, residuals), the attention probabilities (heads x context per layer) where no fused attention kernel
/// exists (the CPU), and the logits three times (compute dtype, fp32 copy for the loss, their gradient).
/// </summary>
public sealed record TrainingMemory(long Parameters, double StateBytes, double ActivationBytes)
{
    public double TotalBytes => StateBytes + ActivationBytes;

    public static TrainingMemory Estimate(GptConfig model, int microBatchRows, bool bf16, bool fusedAttention, bool average = false)
    {
        var parameters = model.ParameterCount;
        double tokens = (double)microBatchRows * model.Context;
        var element = bf16 ? 2.0 : 4.0;
        var perLayer = 20.0 * model.Width + (fusedAttention ? 0 : 2.0 * model.Heads * model.Context);
        var activations = tokens * (model.Layers * perLayer * element + model.Tokens * (element + 4 + 4));
        return new TrainingMemory(parameters, (average ? 20.0 : 16.0) * parameters, activations);
    }

    /// <summary>"1.2 GiB", "350 MiB".</summary>
    public static string Text(double bytes) =>
        bytes >= 1L << 30 ? $"{bytes / (1L << 30):F1} GiB" : $"{bytes / (1 << 20):F0} MiB";
}
