namespace Streaming.Grains;

/// <summary>A block of token ids of one corpus, addressed by its sequence number: its position in the run's order of that
/// corpus (the stored order, or a shuffle of it).</summary>
[GenerateSerializer, Immutable]
public sealed record TokenBlock(
    [property: Id(0)] string Corpus,
    [property: Id(1)] long Sequence,
    [property: Id(2)] int[] Tokens);
