using Streaming.Training.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Training.Tests.Engine;

/// <summary>Serializes the tests that train (2-core machine; deterministic timing-free runs).</summary>
[CollectionDefinition("torch", DisableParallelization = true)]
public sealed class TorchCollection;

/// <summary>
/// Byte-level batches of real English text (the GPL-2 licence text the repository ships with a sample corpus) drawn by a seeded
/// SplitMix64 sampler whose whole state is one number, so it can be checkpointed.
/// </summary>
public sealed class TextBatches
{
    public static readonly string Source = Path.Combine(Streaming.Training.Data.SampleCorpora.Folder(), "german", "GPL-2");
    static readonly Lazy<byte[]> Text = new(() => File.ReadAllBytes(Source));

    readonly int from, to;

    /// <summary>The sampler state (persist it to resume the exact sequence of batches).</summary>
    public ulong State { get; set; }

    /// <summary>Train on the first 90% of the text, validate on the rest.</summary>
    public static TextBatches Train(ulong seed) => new(0, Text.Value.Length * 9 / 10, seed);
    public static TextBatches Validation(ulong seed) => new(Text.Value.Length * 9 / 10, Text.Value.Length, seed);

    TextBatches(int from, int to, ulong seed) => (this.from, this.to, State) = (from, to, seed);

    public static Device Cpu() => TorchRuntime.Initialize(new TorchOptions { Device = "cpu", Threads = 1 });

    ulong Next()
    {
        var z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>inputs and next-byte targets, int64 [batch, length].</summary>
    public (Tensor Inputs, Tensor Targets) Next(int batch, int length)
    {
        var text = Text.Value;
        var x = new long[batch * length];
        var y = new long[batch * length];
        for (var b = 0; b < batch; b++)
        {
            var start = from + (int)(Next() % (ulong)(to - from - length - 1));
            for (var t = 0; t < length; t++)
            {
                x[b * length + t] = text[start + t];
                y[b * length + t] = text[start + t + 1];
            }
        }
        return (torch.tensor(x, [batch, length]), torch.tensor(y, [batch, length]));
    }
}
