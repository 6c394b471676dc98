namespace Streaming.Schedules;

/// <summary>The curve of one phase: how the rate moves from a start value a to an end value b.</summary>
public enum Shape
{
    Linear,
    Cosine,
    Exponential,
    OneMinusSqrt,
    InverseSqrt,
    Rex,
}

/// <summary>
/// The pure shape formulas behind every schedule. A phase of length L executes local steps j = 0..L-1 with progress
/// p = (j+1)/L, so its last step (p = 1) sits exactly on the end value b.
/// </summary>
public static class Shapes
{
    /// <summary>alpha of the inverse-sqrt shape (the "timescale" of Ibrahim et al.; 10 in every author config).</summary>
    public const double InverseSqrtAlpha = 10.0;

    /// <summary>Progress of local step j (0-based) in a phase of <paramref name="length"/> steps.</summary>
    public static double Progress(long j, long length) => (double)(j + 1) / length;

    /// <summary>The rate at progress p in (0, 1] of a phase from a to b.</summary>
    public static double Evaluate(Shape shape, double a, double b, double p)
    {
        // p = 1 returns b itself: some formulas (exponential, linear, inverse-sqrt) would otherwise land
        // one rounding error off, and the contract is that a phase ends exactly on its end value.
        if (p >= 1.0) return b;
        return shape switch
        {
            Shape.Linear => a + (b - a) * p,
            // The weight first: (a - b) * (1 + cos) would overflow for rates near double.MaxValue.
            Shape.Cosine => b + (a - b) * ((1.0 + Math.Cos(Math.PI * p)) / 2.0),
            Shape.Exponential => a * Math.Pow(b / a, p),
            Shape.OneMinusSqrt => b + (a - b) * (1.0 - Math.Sqrt(p)),
            Shape.InverseSqrt => a + (b - a) * H(p) / H(1.0),
            // REX (Chen et al. 2021): the remaining fraction q = 1 - p, bent by q / (1/2 + q/2).
            Shape.Rex => b + (a - b) * (1.0 - p) / (0.5 + 0.5 * (1.0 - p)),
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, null),
        };
    }

    private static double H(double x) => 1.0 / Math.Sqrt(1.0 + InverseSqrtAlpha * x) - 1.0;

    /// <summary>The rate at local step j of a phase of the given length from a to b.</summary>
    public static double At(Shape shape, double a, double b, long j, long length) =>
        Evaluate(shape, a, b, Progress(j, length));

    /// <summary>The config spelling of a shape: linear, cosine, exponential, 1-sqrt, inverse-sqrt, rex.</summary>
    public static string Name(Shape shape) => shape switch
    {
        Shape.Linear => "linear",
        Shape.Cosine => "cosine",
        Shape.Exponential => "exponential",
        Shape.OneMinusSqrt => "1-sqrt",
        Shape.InverseSqrt => "inverse-sqrt",
        Shape.Rex => "rex",
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, null),
    };

    /// <summary>Parses a config spelling; null when unknown.</summary>
    public static Shape? Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "linear" => Shape.Linear,
        "cosine" => Shape.Cosine,
        "exponential" => Shape.Exponential,
        "1-sqrt" => Shape.OneMinusSqrt,
        "inverse-sqrt" => Shape.InverseSqrt,
        "rex" => Shape.Rex,
        _ => null,
    };
}
