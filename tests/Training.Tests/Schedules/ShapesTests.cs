using Streaming.Schedules;

namespace Streaming.Training.Tests.Schedules;

/// <summary>Each shape against values computed by hand from the shape formulas.</summary>
public class ShapesTests
{
    private const double A = 3e-4, B = 1e-4;

    [Fact]
    public void LinearIsTheStraightLine() => Approx.Equal(2.5e-4, Shapes.Evaluate(Shape.Linear, A, B, 0.25));

    [Fact]
    public void CosineIsHalfwayAtTheMiddle() => Approx.Equal(2e-4, Shapes.Evaluate(Shape.Cosine, A, B, 0.5));

    [Fact]
    public void CosineAtAQuarter() => // (1 + cos(pi/4)) / 2 = 0.853553390593...
        Approx.Equal(1e-4 + 2e-4 * 0.85355339059327373, Shapes.Evaluate(Shape.Cosine, A, B, 0.25));

    [Fact]
    public void ExponentialIsTheGeometricMeanAtTheMiddle() =>
        Approx.Equal(Math.Sqrt(3e-8), Shapes.Evaluate(Shape.Exponential, A, B, 0.5));

    [Fact]
    public void OneMinusSqrtAtAQuarterIsHalfway() => Approx.Equal(2e-4, Shapes.Evaluate(Shape.OneMinusSqrt, A, B, 0.25));

    [Fact]
    public void InverseSqrtAtPoint3() // h(0.3) = 1/2 - 1 = -0.5; h(1) = 1/sqrt(11) - 1
        => Approx.Equal(3e-4 - 2e-4 * 0.5 / (1 - 1 / Math.Sqrt(11)), Shapes.Evaluate(Shape.InverseSqrt, A, B, 0.3));

    public static TheoryData<Shape> AllShapes =>
        [Shape.Linear, Shape.Cosine, Shape.Exponential, Shape.OneMinusSqrt, Shape.InverseSqrt, Shape.Rex];

    [Fact]
    public void RexAtTheMiddle() // q = 1/2: q / (1/2 + q/2) = 2/3
        => Approx.Equal(1e-4 + 2e-4 * 2.0 / 3.0, Shapes.Evaluate(Shape.Rex, A, B, 0.5));

    [Theory]
    [MemberData(nameof(AllShapes))]
    public void EveryShapeEndsExactlyOnItsEndValueAndStartsJustBelowItsStart(Shape shape)
    {
        Assert.Equal(1.65e-4, Shapes.At(shape, 3e-4, 1.65e-4, 39, 40)); // exact, not approximately
        var first = Shapes.At(shape, 3e-4, 1.65e-4, 0, 40);
        Assert.True(first < 3e-4 && first > 1.65e-4);
    }

    [Theory]
    [MemberData(nameof(AllShapes))]
    public void EveryShapeDecreasesMonotonically(Shape shape)
    {
        var previous = 3e-4;
        for (var j = 0; j < 100; j++)
        {
            var lr = Shapes.At(shape, 3e-4, 3e-5, j, 100);
            Assert.True(lr < previous, $"{shape} step {j}: {lr} !< {previous}");
            previous = lr;
        }
    }

    [Fact]
    public void ProgressOfLocalStepIsOneBasedOverTheLength()
    {
        Assert.Equal(0.25, Shapes.Progress(0, 4));
        Assert.Equal(1.0, Shapes.Progress(3, 4));
    }

    [Fact]
    public void NamesRoundTrip()
    {
        foreach (var shape in Enum.GetValues<Shape>()) Assert.Equal(shape, Shapes.Parse(Shapes.Name(shape)));
        Assert.Null(Shapes.Parse("quadratic"));
    }
}
