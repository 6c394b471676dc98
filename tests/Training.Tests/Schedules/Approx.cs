namespace Streaming.Training.Tests.Schedules;

/// <summary>Relative comparison of learning rates.</summary>
internal static class Approx
{
    public static void Equal(double expected, double actual, double relative = 1e-13)
    {
        var error = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), double.Epsilon);
        Assert.True(error <= relative, $"expected {expected:R}, got {actual:R} (relative error {error:G3})");
    }
}
