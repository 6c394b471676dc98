namespace Streaming.Training.Data;

/// <summary>
/// How a run cuts a corpus' train tokens into blocks of its batch plus one token (a block of K tokens predicts K - 1).
/// A last block of one token predicts nothing: it is no block to train, and its token is no work to do.
/// </summary>
public static class TrainBlocks
{
    /// <summary>Blocks of <paramref name="blockTokens"/> in <paramref name="tokens"/>, the last one shorter, none of one token.</summary>
    public static long Count(long tokens, int blockTokens) => tokens / blockTokens + (tokens % blockTokens >= 2 ? 1 : 0);

    /// <summary>The tokens those blocks hold: all but a last one of one token.</summary>
    public static long Tokens(long tokens, int blockTokens) => tokens % blockTokens == 1 ? tokens - 1 : tokens;
}
