namespace Streaming.Integration.Tests;

/// <summary>The silo executable as a user runs it: bad input is one line on stderr and a non-zero exit.</summary>
public class SiloCommandLineTests
{
    [Theory]
    [InlineData("--libtorch /nonexistent/torch/lib", "error: libtorch folder '/nonexistent/torch/lib' does not exist")]
    [InlineData("--device tpu", "error: --device must be auto, cpu or cuda, not 'tpu'")]
    [InlineData("--device cuda", "error: --device cuda: CUDA is not available")]
    [InlineData("--demo /nonexistent/corpus.txt", "error: corpus '/nonexistent/corpus.txt' does not exist")]
    [InlineData("--storage postgres", "error: unknown grain storage 'postgres': use one of sqlite, redis, memory")]
    [InlineData("--storage redis", "error: grain storage 'redis' needs a Redis connection string (--redis HOST:PORT)")]
    public void BadInputIsOneLineAndExitTwo(string arguments, string expected)
    {
        var (code, _, stderr) = Executables.Run(Executables.Silo, $"--http-port 0 {arguments}");
        Assert.Equal(2, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:")).ToList();
        Assert.Single(lines);
        Assert.StartsWith(expected, lines[0]);
        Assert.DoesNotContain("   at ", stderr);
    }
}
