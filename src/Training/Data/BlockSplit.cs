namespace Streaming.Training.Data;

/// <summary>
/// The train/validation split of a corpus whose documents cannot be split (<see cref="DocumentSplit.HoldsOutDocuments"/>
/// is false: one document, or copies of one, such as a book in a .txt without blank lines or one long line). Its token
/// stream is cut into whole blocks, and validation takes round(fraction × blocks) of them, at least one and never all,
/// one in the middle of each of that many equal shares of the stream (so not just a book's front matter or the licence
/// at its end). A short last block stays in train. Decided by the token count alone: the same bytes give the same split
/// on every ingest, and every token is on exactly one side.
/// </summary>
public sealed class BlockSplit
{
    private BlockSplit(long blocks, long validationBlocks)
    {
        Blocks = blocks;
        ValidationBlocks = validationBlocks;
    }

    /// <summary>Whole blocks in the token stream.</summary>
    public long Blocks { get; }

    /// <summary>Whole blocks held out for validation.</summary>
    public long ValidationBlocks { get; }

    /// <summary>Tokens a corpus needs before anything can be held out: one block to train and one to validate.</summary>
    public static long MinimumTokens(int blockSize) => 2L * blockSize;

    /// <summary>The split of a stream of <paramref name="tokens"/> tokens; null when it is shorter than <see cref="MinimumTokens"/>
    /// or the fraction is 0 (nothing to hold out).</summary>
    public static BlockSplit? Plan(long tokens, int blockSize, double validationFraction)
    {
        if (blockSize <= 0) throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "block size must be positive");
        if (double.IsNaN(validationFraction) || validationFraction < 0 || validationFraction >= 1)
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "validation fraction must be in [0, 1)");
        if (tokens < MinimumTokens(blockSize) || validationFraction == 0) return null;
        var blocks = tokens / blockSize;
        var validation = Math.Clamp((long)Math.Round(validationFraction * blocks, MidpointRounding.AwayFromZero), 1, blocks - 1);
        return new BlockSplit(blocks, validation);
    }

    /// <summary>Whether whole block <paramref name="block"/> of the stream is validation.</summary>
    public bool IsValidation(long block) => ValidationBefore(block + 1) > ValidationBefore(block);

    /// <summary>Validation blocks among the first <paramref name="blocks"/>: rises by one half a share into each share.</summary>
    private long ValidationBefore(long blocks) => (blocks * ValidationBlocks + Blocks / 2) / Blocks;
}
