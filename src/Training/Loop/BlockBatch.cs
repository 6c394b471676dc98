using Streaming.Training.Model;
using static TorchSharp.torch;

namespace Streaming.Training.Loop;

/// <summary>
/// Cuts blocks of tokens into rows of the model's context T: in a block of K tokens, row r predicts tokens
/// r*T+1 .. r*T+T from r*T .. r*T+T-1, so every token after the first is a target exactly once. A block's
/// last row is padded; padded targets carry the ignore index and count for nothing in the loss.
/// </summary>
public static class BlockBatch
{
    public const long IgnoreIndex = -100;

    /// <summary>Rows that a block of <paramref name="tokens"/> tokens makes.</summary>
    public static int Rows(int tokens, int context) => (tokens - 1 + context - 1) / context;

    public static (Tensor Inputs, Tensor Targets) Make(int[] tokens, GptConfig model, Device device) => Make([tokens], model, device);

    /// <summary>One batch of the rows of several blocks (e.g. a new block and replayed windows) for <paramref name="model"/>.
    /// An id the model has no token for (a damaged store, another tokenizer's corpus) throws <see cref="InvalidDataException"/>
    /// here, before the device sees it: libtorch would fail on it, and on CUDA leave the device unusable for every run on it.</summary>
    public static (Tensor Inputs, Tensor Targets) Make(IReadOnlyList<int[]> blocks, GptConfig model, Device device)
    {
        if (blocks.Any(b => b.Length < 2)) throw new ArgumentException("a block needs at least two tokens", nameof(blocks));
        var context = model.Context;
        foreach (var tokens in blocks)
            if (Array.FindIndex(tokens, id => (uint)id >= (uint)model.Tokens) is var at and >= 0)
                throw new InvalidDataException($"token id {tokens[at]} at position {at} is outside the model's {model.Tokens} tokens: "
                    + "the stored corpus is damaged or was made with another tokenizer");
        var rows = blocks.Sum(b => Rows(b.Length, context));
        var inputs = new long[rows * context];
        var targets = new long[rows * context];
        Array.Fill(targets, IgnoreIndex);
        var row = 0;
        foreach (var tokens in blocks)
        {
            var offset = row * context;
            for (int i = 0; i < tokens.Length - 1; i++)
            {
                inputs[offset + i] = tokens[i];
                targets[offset + i] = tokens[i + 1];
            }
            row += Rows(tokens.Length, context);
        }
        return (tensor(inputs, [rows, context]).to(device), tensor(targets, [rows, context]).to(device));
    }
}
