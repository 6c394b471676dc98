using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Training.Native;

/// <summary>
/// Numbers handed to libtorch, kept alive until the calls that read them have returned. TorchSharp gives libtorch only the
/// native handle of a Scalar (or of a tensor made from a number) and frees it in the object's finalizer, so one made
/// implicitly for a single call (<c>t.mul_(0.9)</c>; <c>a + b</c>, whose alpha is an implicit 1) can be freed by the finalizer
/// thread while libtorch still reads it. Seen as wrong optimizer weights, "Expected false to be true" from Scalar::toFloat,
/// and a silo ending in a segfault (docs/model.md, ScalarLifetimeTests). So the training code passes no bare number where
/// TorchSharp takes a Scalar or a tensor: constants are statics, other numbers come from a <see cref="KeptScalars"/> that is
/// disposed after the calls.
/// </summary>
public sealed class KeptScalars : IDisposable
{
    /// <summary>1: the alpha of a plain tensor addition, and a clamp's bound. Static, so never finalized.</summary>
    public static readonly Scalar One = 1.ToScalar();

    readonly List<IDisposable> kept = [];

    /// <summary>A Scalar of <paramref name="value"/> that lives until this is disposed.</summary>
    public Scalar Of(double value) => Keep(value.ToScalar());

    /// <summary>A 0-d tensor of <paramref name="value"/> (float64 on the CPU, as TorchSharp makes one from a number) that lives
    /// until this is disposed.</summary>
    public Tensor Tensor(double value) => Keep(torch.tensor(value));

    T Keep<T>(T value) where T : IDisposable
    {
        kept.Add(value);
        return value;
    }

    /// <summary>Frees what was made, after the calls that read it.</summary>
    public void Dispose()
    {
        foreach (var value in kept) value.Dispose();
        kept.Clear();
    }
}
