namespace Streaming.Training.Data;

/// <summary>Turns text into token ids and back. Implementations are immutable and thread-safe.</summary>
public interface ITokenizer
{
    /// <summary>The name that <see cref="Tokenizers.Create"/> accepts and manifests record, e.g. "byte".</summary>
    string Name { get; }

    /// <summary>One more than the largest id this tokenizer can emit (the model's embedding rows).</summary>
    int VocabularySize { get; }

    /// <summary>
    /// The id written after every document in a block store, or null when the tokenizer has none
    /// (byte-level: all 256 ids are bytes, so documents are simply concatenated).
    /// </summary>
    int? EndOfTextId { get; }

    int[] Encode(string text);

    string Decode(ReadOnlySpan<int> ids);
}
