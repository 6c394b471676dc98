using Xunit.Abstractions;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>Generated schedule configs and task lists: each is refused in one line or yields bounded, finite rates.</summary>
[Collection(FuzzCollection.Name)]
public class ScheduleFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_generated_schedule_config_is_refused_in_one_line_or_yields_finite_bounded_rates()
    {
        var run = new FuzzRun("schedule configs", output);
        run.Sample(ScheduleConfigGen.Cases, c => ScheduleDriver.Run(c.Config, c.Tasks), c => $"{c.Config} with tasks [{string.Join(", ", c.Tasks)}]");
        Assert.True(run.GrowthBytes < FuzzCollection.GrowthBound, $"peak working set grew by {run.GrowthBytes >> 20} MiB");
    }
}
