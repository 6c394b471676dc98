namespace Streaming.Client.Commands;

/// <summary>
/// The model presets and tokenizers a silo knows, for help text only: the silo checks every name it is given and
/// answers an unknown one with a one-line error. A test keeps these lists equal to the training library's.
/// </summary>
public static class SiloNames
{
    /// <summary>The --model presets, in the silo's order.</summary>
    public static IReadOnlyList<string> ModelPresets { get; } = ["tiny", "gpt2-small", "gpt2-medium"];

    /// <summary>The --tokenizer names, in the silo's order.</summary>
    public static IReadOnlyList<string> Tokenizers { get; } = ["byte", "gpt2", "cl100k_base", "o200k_base"];
}
