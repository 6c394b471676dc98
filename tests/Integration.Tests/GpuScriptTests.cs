using System.Diagnostics;
using System.Text.Json;

namespace Streaming.Integration.Tests;

/// <summary>bench/gpu/run.sh in its CPU mode, end to end on the built silo, client and bench: the same steps as on a
/// GPU (a silo run sampled, the bench against PyTorch, the summary), so the script a GPU machine runs is known to work.</summary>
public sealed class GpuScriptTests : IDisposable
{
    readonly string output = Directory.CreateTempSubdirectory("gpu-script-").FullName;

    [Fact]
    public async Task CpuModeTrainsBenchesAndSummarises()
    {
        var bench = Path.Combine(AppContext.BaseDirectory.Replace("/tests/Integration.Tests/", "/bench/Streaming.Bench/"), "Streaming.Bench.dll");
        Assert.True(File.Exists(bench), $"{bench} was not built (dotnet build Streaming.sln)");
        var start = new ProcessStartInfo("bash") { WorkingDirectory = Executables.RepositoryRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "bench/gpu/run.sh", "--cpu", "--seconds", "20", "--out", output,
                     "--silo", Executables.Silo, "--client", Executables.Client, "--bench", bench })
            start.ArgumentList.Add(a);
        start.Environment["PYTHON"] = "/usr/bin/python3";   // the interpreter python3-torch belongs to (test.sh installs it)
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // About a minute of work, but mostly process starts, which a crowded machine stretches to minutes.
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var finished = true;
        try { await process.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); finished = false; }
        var (printed, errors) = (await stdout, await stderr);
        Assert.True(finished && process.ExitCode == 0, $"run.sh --cpu {(finished ? "failed" : "did not finish in 10 minutes")}:\n{printed}\n{errors}");

        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json"))).RootElement;
        Assert.Equal("cpu", summary.GetProperty("mode").GetString());
        var silo = summary.GetProperty("silo");
        Assert.Equal("2x64 h2 ctx64 v256", silo.GetProperty("model").GetString());
        Assert.True(silo.GetProperty("loss_falling").GetBoolean(), $"the loss did not fall: {silo}");
        foreach (var positive in new[] { "tokens_per_second", "seconds_measured", "peak_memory_bytes", "steps", "first_loss", "loss_last" })
            Assert.True(silo.GetProperty(positive).GetDouble() > 0, $"silo {positive} is not positive: {silo}");
        Assert.True(silo.GetProperty("evaluated").GetInt32() > 0, $"the evaluator scored nothing: {silo}");
        Assert.True(silo.GetProperty("eval_pending_max").GetDouble() >= 0);
        foreach (var positive in new[] { "silo_mfu", "bench_loop_tokens_per_second", "silo_over_bench" })
            Assert.True(summary.GetProperty(positive).GetDouble() > 0, $"{positive} is not positive: {summary}");

        var benches = summary.GetProperty("bench").EnumerateArray().ToList();
        Assert.Equal(2, benches.Count);
        foreach (var b in benches)
        {
            var results = b.GetProperty("results").EnumerateArray().ToList();
            Assert.Equal(["streaming (TorchSharp)", "pytorch fp32"], results.Select(r => r.GetProperty("name").GetString()));
            foreach (var r in results)
                foreach (var positive in new[] { "tokens_per_second", "mfu", "ours_over_this" })
                    Assert.True(r.GetProperty(positive).GetDouble() > 0, $"{positive} is not positive: {r}");
        }
        Assert.Contains("silo / bench loop", File.ReadAllText(Path.Combine(output, "summary.md")));
        Assert.Contains("silo / bench loop", printed);
    }

    public void Dispose() => Directory.Delete(output, recursive: true);
}
