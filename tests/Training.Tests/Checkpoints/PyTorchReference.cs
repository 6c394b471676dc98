using System.Diagnostics;

namespace Streaming.Training.Tests.Checkpoints;

/// <summary>The independent PyTorch GPT-2 of tests/interop/gpt2_hf.py, run with Debian's python3-torch (test.sh installs it).
/// Linked into the integration tests too.</summary>
internal static class PyTorchReference
{
    /// <summary>Runs the script with <paramref name="args"/>; returns its output's last line.</summary>
    public static string Run(params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };   // the interpreter python3-torch belongs to
        start.ArgumentList.Add(Script());
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "the PyTorch reference did not finish in 2 minutes");
        Assert.True(process.ExitCode == 0, $"python3 gpt2_hf.py {string.Join(' ', args)} failed (test.sh installs python3-torch): {error.Result}");
        return output.Result.Trim().Split('\n')[^1];
    }

    static string Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var script = Path.Combine(dir.FullName, "tests", "interop", "gpt2_hf.py");
            if (File.Exists(script)) return script;
        }
        throw new InvalidOperationException($"no tests/interop/gpt2_hf.py above {AppContext.BaseDirectory}");
    }
}
