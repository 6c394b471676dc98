using static TorchSharp.torch;

namespace Streaming.Training.Loop;

/// <summary>
/// Cuts one block of K tokens into rows of the model's context T: row r predicts tokens r*T+1 .. r*T+T
/// from r*T .. r*T+T-1, so every token after the first is a target exactly once. The last row is padded;
/// padded targets carry the ignore index and count for nothing in the loss.
/// </summary>
public static class BlockBatch
{
    public const long IgnoreIndex = -100;

    public static (Tensor Inputs, Tensor Targets) Make(int[] tokens, int context, Device device)
    {
        if (tokens.Length < 2) throw new ArgumentException("a block needs at least two tokens", nameof(tokens));
        int rows = (tokens.Length - 1 + context - 1) / context;
        var inputs = new long[rows * context];
        var targets = new long[rows * context];
        Array.Fill(targets, IgnoreIndex);
        for (int i = 0; i < tokens.Length - 1; i++)
        {
            inputs[i] = tokens[i];
            targets[i] = tokens[i + 1];
        }
        return (tensor(inputs, [rows, context]).to(device), tensor(targets, [rows, context]).to(device));
    }
}
