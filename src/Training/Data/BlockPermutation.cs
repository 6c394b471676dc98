namespace Streaming.Training.Data;

/// <summary>
/// A keyed pseudo-random bijection on [0, <see cref="Count"/>) that costs O(1) memory whatever the count: a balanced
/// Feistel network on the smallest power of four at or above the count, cycle-walked back into range (the network
/// permutes that larger range, so walking from a position until the value falls in range visits each value once;
/// fewer than four steps on average, as the range is under four times the count). The same seed gives the same order.
/// </summary>
public sealed class BlockPermutation
{
    const int Rounds = 6;   // 4 already makes a Feistel network pseudo-random; 6 mixes small ranges better

    readonly ulong[] keys = new ulong[Rounds];
    readonly int halfBits;
    readonly ulong halfMask;

    public BlockPermutation(ulong seed, long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Count = count;
        var bits = 2;
        while (bits < 64 && 1UL << bits < (ulong)count) bits += 2;
        halfBits = bits / 2;
        halfMask = (1UL << halfBits) - 1;
        for (var i = 0; i < Rounds; i++) keys[i] = Mix(seed + (ulong)(i + 1) * 0x9E3779B97F4A7C15UL);
    }

    public long Count { get; }

    /// <summary>The value at <paramref name="position"/> (both in [0, <see cref="Count"/>)).</summary>
    public long this[long position]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(position);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(position, Count);
            var value = (ulong)position;
            do value = Encrypt(value);
            while (value >= (ulong)Count);
            return (long)value;
        }
    }

    ulong Encrypt(ulong value)
    {
        var left = value >> halfBits;
        var right = value & halfMask;
        foreach (var key in keys) (left, right) = (right, left ^ (Mix(right ^ key) & halfMask));
        return left << halfBits | right;
    }

    /// <summary>SplitMix64's finalizer: every input bit flips about half the output bits.</summary>
    internal static ulong Mix(ulong z)
    {
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}
