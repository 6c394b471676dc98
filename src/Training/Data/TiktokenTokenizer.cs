using Microsoft.ML.Tokenizers;

namespace Streaming.Training.Data;

/// <summary>
/// OpenAI's BPE encodings (gpt2: GPT-2's 50257 ids, cl100k_base, o200k_base) through Microsoft.ML.Tokenizers. The
/// vocabularies come from the Microsoft.ML.Tokenizers.Data.* packages embedded in the build, so
/// nothing is downloaded at run time. Documents end with the encoding's &lt;|endoftext|&gt; id.
/// Note: the library maps a literal "&lt;|endoftext|&gt;" inside a text to that special id too.
/// </summary>
public sealed class TiktokenTokenizer : ITokenizer
{
    public const string Gpt2 = "gpt2";
    public const string Cl100kBase = "cl100k_base";
    public const string O200kBase = "o200k_base";

    private readonly Microsoft.ML.Tokenizers.TiktokenTokenizer _inner;

    public TiktokenTokenizer(string encodingName)
    {
        if (encodingName is not (Gpt2 or Cl100kBase or O200kBase))
            throw new ArgumentException($"unknown tiktoken encoding '{encodingName}' (known: {Gpt2}, {Cl100kBase}, {O200kBase})");
        // GPT-2's encoding is r50k_base's; the library names that model "gpt2".
        _inner = encodingName == Gpt2
            ? Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForModel(Gpt2)
            : Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForEncoding(encodingName);
        Name = encodingName;
        var special = _inner.SpecialTokens ?? new Dictionary<string, int>();
        EndOfTextId = special.TryGetValue("<|endoftext|>", out var eot)
            ? eot
            : throw new InvalidOperationException($"{encodingName} has no <|endoftext|> token");
        // Ranks are dense from 0 and the special tokens sit above them, so the largest special id bounds
        // every id (gpt2: 50257 ids, cl100k_base: 100277, o200k_base: 200019); a test checks this.
        VocabularySize = special.Values.Max() + 1;
    }

    public string Name { get; }

    public int VocabularySize { get; }

    public int? EndOfTextId { get; }

    public int[] Encode(string text) => [.. _inner.EncodeToIds(text)];

    public string Decode(ReadOnlySpan<int> ids) => _inner.Decode(ids.ToArray());
}
