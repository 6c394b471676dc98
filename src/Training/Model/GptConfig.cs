using System.Text.Json.Serialization;

namespace Streaming.Training.Model;

/// <summary>
/// The size of a GPT decoder. Serialized into every checkpoint manifest; a checkpoint only loads into a
/// model whose config is equal (record equality, including <see cref="Dropout"/>).
/// </summary>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Width">Residual stream width (embedding size).</param>
/// <param name="Heads">Attention heads; must divide <paramref name="Width"/>.</param>
/// <param name="Context">Longest sequence (learned positions are this many).</param>
/// <param name="Vocabulary">Rows of the token embedding (and the tied head): the tokenizer's ids, padded up to a multiple of 64 by <see cref="ForTokenizer"/>.</param>
public sealed record GptConfig(int Layers, int Width, int Heads, int Context, int Vocabulary)
{
    /// <summary>
    /// The tokenizer's ids (0..TokenVocabulary-1) when <see cref="Vocabulary"/> is padded beyond them (GPT-2's 50257 as 50304,
    /// for matmul shapes that suit the GPU); null when every row is a token. Padded rows are never a target and never
    /// predicted: the loss and the logits cover the tokenizer's ids only, so losses match an unpadded model's.
    /// </summary>
    public int? TokenVocabulary { get; init; }

    /// <summary>The ids the model predicts: <see cref="TokenVocabulary"/>, or all of <see cref="Vocabulary"/>.</summary>
    [JsonIgnore] public int Tokens => TokenVocabulary ?? Vocabulary;

    /// <summary>Embedding rows for a tokenizer of <paramref name="ids"/> ids: the next multiple of 64.</summary>
    public static int PaddedVocabulary(int ids) => checked((ids + 63) / 64 * 64);

    /// <summary>This shape with the vocabulary of a tokenizer of <paramref name="ids"/> ids, padded (see <see cref="TokenVocabulary"/>).</summary>
    public GptConfig ForTokenizer(int ids)
    {
        var rows = PaddedVocabulary(ids);
        return this with { Vocabulary = rows, TokenVocabulary = rows == ids ? null : ids };
    }

    /// <summary>GELU by its tanh approximation (GPT-2's "gelu_new"), as a model continued from GPT-2's weights needs; false:
    /// the exact erf GELU that models trained here from scratch use.</summary>
    public bool TanhGelu { get; init; }

    /// <summary>Dropout on attention output, MLP output and embeddings. 0 for pre-training: dropout draws from libtorch's process-wide
    /// generator, which every run in a silo shares, so a run with dropout does not resume bit-exactly.</summary>
    public double Dropout { get; init; }

    /// <summary>A CPU demo / test size: 4 layers, width 128, 4 heads, context 128, byte vocabulary.</summary>
    public static GptConfig Tiny { get; } = new(4, 128, 4, 128, 256);

    /// <summary>GPT-2 small's shape (124M parameters with the padded GPT-2 vocabulary 50304).</summary>
    public static GptConfig Gpt2Small { get; } = new(12, 768, 12, 1024, 50304) { TokenVocabulary = 50257 };

    /// <summary>GPT-2 medium's shape (~355M parameters with vocabulary 50304).</summary>
    public static GptConfig Gpt2Medium { get; } = new(24, 1024, 16, 1024, 50304) { TokenVocabulary = 50257 };

    /// <summary>The named shapes of <c>--model</c>; a run replaces their vocabulary with its tokenizer's.</summary>
    public static IReadOnlyDictionary<string, GptConfig> Presets { get; } = new Dictionary<string, GptConfig>
    {
        ["tiny"] = Tiny,
        ["gpt2-small"] = Gpt2Small,
        ["gpt2-medium"] = Gpt2Medium,
    };

    /// <summary>Width of one attention head.</summary>
    [JsonIgnore] public int HeadSize => Width / Heads;

    /// <summary>Throws <see cref="ArgumentException"/> with a one-line reason when the shape is unusable.</summary>
    public GptConfig Validate()
    {
        static void Require(bool ok, string message) { if (!ok) throw new ArgumentException(message); }
        Require(Layers >= 1, $"model layers must be at least 1, not {Layers}");
        Require(Width >= 1, $"model width must be at least 1, not {Width}");
        Require(Heads >= 1, $"model heads must be at least 1, not {Heads}");
        Require(Width % Heads == 0, $"model width {Width} is not divisible by heads {Heads}");
        Require(Context >= 1, $"model context must be at least 1, not {Context}");
        Require(Vocabulary >= 2, $"model vocabulary must be at least 2, not {Vocabulary}");
        Require(TokenVocabulary is not { } ids || (ids >= 2 && ids <= Vocabulary),
            $"model token vocabulary must be in [2, {Vocabulary}], not {TokenVocabulary}");
        Require(Dropout is >= 0 and < 1, $"model dropout must be in [0, 1), not {Dropout}");
        return this;
    }

    /// <summary>Parameter count (embeddings counted once: the head is tied to the token embedding).</summary>
    public long ParameterCount
    {
        get
        {
            long c = Width;
            long perBlock = 2 * 2 * c          // two LayerNorms (gain + bias)
                + c * 3 * c + 3 * c            // fused QKV
                + c * c + c                    // attention output projection
                + c * 4 * c + 4 * c            // MLP up
                + 4 * c * c + c;               // MLP down
            return (long)Vocabulary * c + (long)Context * c + Layers * perBlock + 2 * c;
        }
    }

    /// <summary>
    /// Training FLOPs per token, nanoGPT/PaLM accounting: 6 N (N = parameters without position embeddings)
    /// plus 12 L C T for attention scores and values (counting the full T x T square, as is customary).
    /// </summary>
    public double TrainingFlopsPerToken(int sequenceLength)
        => 6.0 * (ParameterCount - (long)Context * Width) + 12.0 * Layers * Width * sequenceLength;

    /// <summary>A short human-readable shape, e.g. "12x768 h12 ctx1024 v50304".</summary>
    public override string ToString() => $"{Layers}x{Width} h{Heads} ctx{Context} v{Vocabulary}" + (TokenVocabulary is { } t ? $"({t})" : "") + (TanhGelu ? " gelu-tanh" : "") + (Dropout > 0 ? $" dropout{Dropout}" : "");
}
