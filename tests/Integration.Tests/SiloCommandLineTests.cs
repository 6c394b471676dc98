using System.Diagnostics;

namespace Streaming.Integration.Tests;

/// <summary>The silo executable as a user runs it: bad input is one line on stderr and a non-zero exit.</summary>
public class SiloCommandLineTests
{
    static readonly string Silo = Path.Combine(AppContext.BaseDirectory.Replace("/tests/Integration.Tests/", "/src/Silo/"), "streaming-silo.dll");

    [Theory]
    [InlineData("--libtorch /nonexistent/torch/lib", "error: libtorch folder '/nonexistent/torch/lib' does not exist")]
    [InlineData("--device tpu", "error: --device must be auto, cpu or cuda, not 'tpu'")]
    [InlineData("--device cuda", "error: --device cuda: CUDA is not available")]
    [InlineData("--demo /nonexistent/corpus.txt", "error: corpus '/nonexistent/corpus.txt' does not exist")]
    public void BadInputIsOneLineAndExitTwo(string arguments, string expected)
    {
        var (code, stderr) = Run(arguments);
        Assert.Equal(2, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:")).ToList();
        Assert.Single(lines);
        Assert.StartsWith(expected, lines[0]);
        Assert.DoesNotContain("   at ", stderr);
    }

    static (int Code, string Stderr) Run(string arguments)
    {
        Assert.True(File.Exists(Silo), $"{Silo} was not built");
        using var process = Process.Start(new ProcessStartInfo("dotnet", $"\"{Silo}\" --http-port 0 {arguments}")
        {
            RedirectStandardError = true, RedirectStandardOutput = true,
        })!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "the silo did not exit");
        return (process.ExitCode, stderr.Result);
    }
}
