namespace Streaming.Integration.Tests;

/// <summary>The client's flags checked before it looks for a silo: one line on stderr, exit 2.</summary>
public class ClientCommandLineTests
{
    [Theory]
    [InlineData("run create r --max-lr abc", "error: --max-lr: not a number ('abc')")]
    [InlineData("run create r --task-steps 1.5", "error: --task-steps: not a whole number of steps ('1.5')")]
    [InlineData("run create r --seed", "error: --seed: needs a value")]
    [InlineData("run create r --total-steps 1e4", "error: --total-steps: not a whole number of steps ('1e4')")]
    [InlineData("run create r --evaluate-every", "error: --evaluate-every: needs a value")]
    [InlineData("run create r --evaluate-every 2.5", "error: --evaluate-every: not a whole number of steps ('2.5')")]
    [InlineData("run create r --order", "error: --order: needs a value")]
    [InlineData("run create r --colour blue", "error: unknown argument '--colour' (see streaming run create --help)")]
    [InlineData("run create r --average-decay often", "error: --average-decay: not a number ('often')")]
    [InlineData("anneal --run r --mode sometimes", "error: --mode must be anneal or average, not 'sometimes'")]
    [InlineData("anneal --run r --mode average --steps 3", "error: --mode average takes no --steps, --budget or --target-loss: the average is released without training")]
    [InlineData("anneal --run r", "error: --steps is required: the length of the anneal branch (or plan it with --budget N or --target-loss X, or use --mode average)")]
    public void BadFlagIsOneLineAndExitTwo(string arguments, string expected)
    {
        var (code, _, err) = Executables.Run(Executables.Client, arguments);
        Assert.Equal(2, code);
        Assert.Equal(expected, err.Trim());
    }
}
