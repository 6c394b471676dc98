using System.Diagnostics;

namespace Streaming.Integration.Tests.Persistence;

/// <summary>The silo's --storage/--redis flags: a bad choice is one line on stderr and exit code 2.</summary>
public class SiloStorageFlagTests
{
    static readonly string Silo = Path.Combine(AppContext.BaseDirectory.Replace("/tests/Integration.Tests/", "/src/Silo/"), "streaming-silo.dll");

    [Theory]
    [InlineData("--storage postgres", "error: unknown grain storage 'postgres': use one of sqlite, redis, memory")]
    [InlineData("--storage redis", "error: grain storage 'redis' needs a Redis connection string (--redis HOST:PORT)")]
    public async Task BadStorageIsOneLineAndExitTwo(string arguments, string expected)
    {
        Assert.True(File.Exists(Silo), $"{Silo} was not built");
        using var process = Process.Start(new ProcessStartInfo("dotnet", $"\"{Silo}\" --http-port 0 {arguments}")
        {
            RedirectStandardError = true, RedirectStandardOutput = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await output;
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, process.ExitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:")).ToList();
        Assert.Equal([expected], lines);
        Assert.DoesNotContain("   at ", stderr);
    }
}
