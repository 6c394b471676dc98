namespace Streaming.Grains;

/// <summary>A block of token ids of one corpus, addressed by its sequence number in that corpus.</summary>
[GenerateSerializer, Immutable]
public sealed record TokenBlock(
    [property: Id(0)] string Corpus,
    [property: Id(1)] long Sequence,
    [property: Id(2)] int[] Tokens);
