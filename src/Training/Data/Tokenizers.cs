namespace Streaming.Training.Data;

/// <summary>Creates tokenizers by the names that configs, the CLI and manifests use.</summary>
public static class Tokenizers
{
    public static IReadOnlyList<string> Names { get; } = [ByteTokenizer.TokenizerName, TiktokenTokenizer.Gpt2, TiktokenTokenizer.Cl100kBase, TiktokenTokenizer.O200kBase];

    /// <exception cref="ArgumentException">The name is not one of <see cref="Names"/>; the message lists them.</exception>
    public static ITokenizer Create(string name) => name switch
    {
        ByteTokenizer.TokenizerName => ByteTokenizer.Instance,
        TiktokenTokenizer.Gpt2 => Gpt2.Value,
        TiktokenTokenizer.Cl100kBase => Cl100k.Value,
        TiktokenTokenizer.O200kBase => O200k.Value,
        // No paramName: the message is the whole one-line error a CLI prints.
        _ => throw new ArgumentException($"unknown tokenizer '{name}' (known: {string.Join(", ", Names)})"),
    };

    // Loading a BPE vocabulary takes a noticeable moment; the tokenizers are immutable, so share them.
    private static readonly Lazy<ITokenizer> Gpt2 = new(() => new TiktokenTokenizer(TiktokenTokenizer.Gpt2));
    private static readonly Lazy<ITokenizer> Cl100k = new(() => new TiktokenTokenizer(TiktokenTokenizer.Cl100kBase));
    private static readonly Lazy<ITokenizer> O200k = new(() => new TiktokenTokenizer(TiktokenTokenizer.O200kBase));
}
