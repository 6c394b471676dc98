namespace Streaming.Training.Loop;

/// <summary>
/// Replay mixing (Ibrahim et al. 2024): every batch gets extra rows drawn from earlier corpora so that a
/// fraction f of its rows is old data. The new block is trained whole, so every new token is still trained
/// exactly once; replay rows come on top (a step costs 1 / (1 - f) times as much). The draw is a pure
/// function of (seed, step), so a resumed run replays exactly the rows the uninterrupted run would have.
/// </summary>
public sealed class ReplaySampler(double fraction, long seed, ICorpusData data)
{
    /// <summary>Replay rows to add to a batch of <paramref name="newRows"/> rows: round(f n / (1 - f)).</summary>
    public static int RowsFor(int newRows, double fraction) =>
        fraction <= 0 ? 0 : (int)Math.Round(fraction * newRows / (1 - fraction), MidpointRounding.AwayFromZero);

    /// <summary>Windows of up to <paramref name="context"/> + 1 tokens from the <paramref name="earlier"/> corpora for step <paramref name="step"/>.</summary>
    public List<int[]> Draw(long step, IReadOnlyList<string> earlier, int newRows, int context)
    {
        var rows = new List<int[]>();
        var count = RowsFor(newRows, fraction);
        if (count == 0 || earlier.Count == 0) return rows;
        var random = new Random(Mix(seed, step));
        for (var i = 0; i < count; i++)
        {
            var corpus = earlier[random.Next(earlier.Count)];
            var blocks = data.TrainBlockCount(corpus);
            if (blocks == 0) continue;
            var block = data.ReadTrainBlock(corpus, random.NextInt64(blocks));
            if (block.Length < 2) continue;
            var start = random.Next(Math.Max(1, block.Length - context));
            rows.Add(block[start..Math.Min(block.Length, start + context + 1)]);
        }
        return rows;
    }

    /// <summary>A 32-bit seed from (seed, step) that differs for neighbouring steps (SplitMix64's finalizer).</summary>
    static int Mix(long seed, long step)
    {
        var z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)step);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)(z ^ (z >> 31));
    }
}
