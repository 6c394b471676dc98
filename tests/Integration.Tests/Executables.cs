using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Streaming.Security;

namespace Streaming.Integration.Tests;

/// <summary>The built silo and client, run through `dotnet` as a user would (same configuration as the tests).</summary>
public static class Executables
{
    /// <summary>
    /// Silos and clients started here share this test run's own cluster credential under this XDG_CONFIG_HOME (as under
    /// ~/.config on a user's machine); the real home folder is left alone. It is made here, before any silo starts: a silo
    /// makes it only at its first start, and a client started right after that silo could find none yet and stop at once.
    /// </summary>
    public static readonly string ConfigHome = Path.Combine(Path.GetTempPath(), $"streaming-tests-config-{Environment.ProcessId}");

    static Executables()
    {
        Environment.SetEnvironmentVariable("XDG_CONFIG_HOME", ConfigHome);
        using var credential = ClusterCredential.LoadOrCreate(CredentialLocation.DefaultPath(Environment.GetEnvironmentVariables()));
    }

    public static readonly string Silo = Sibling("Silo", "streaming-silo.dll");
    public static readonly string Client = Sibling("Client", "streaming.dll");

    static string Sibling(string project, string dll)
    {
        var path = Path.Combine(AppContext.BaseDirectory.Replace("/tests/Integration.Tests/", $"/src/{project}/"), dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} was not built");
    }

    /// <summary>Starts a program with stdout and stderr captured; <paramref name="configure"/> may set its environment or folder.</summary>
    public static Process Start(string dll, string arguments, Action<ProcessStartInfo>? configure = null)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{dll}\" {arguments}") { RedirectStandardError = true, RedirectStandardOutput = true };
        configure?.Invoke(start);
        return Process.Start(start)!;
    }

    /// <summary>Runs a program to its end (at most <paramref name="timeout"/>, a minute by default): exit code, stdout, stderr.</summary>
    public static (int Code, string Out, string Err) Run(string dll, string arguments, TimeSpan? timeout = null, Action<ProcessStartInfo>? configure = null)
    {
        var limit = timeout ?? TimeSpan.FromMinutes(1);
        using var process = Start(dll, arguments, configure);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(dll)} {arguments} did not exit within {limit.TotalSeconds:F0} s");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>A TCP port that is free on loopback right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A program on PATH (or in /usr/bin, /usr/sbin), or null.</summary>
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/sbin")
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>The checkout the tests were built from (the folder holding Streaming.sln).</summary>
    public static readonly string RepositoryRoot = FindRoot();

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Streaming.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Streaming.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Polls `streaming status --run R --json` until the run satisfies the condition; a failed run fails at once.</summary>
    public static async Task<System.Text.Json.JsonElement> WaitForRun(int gateway, string run, Func<System.Text.Json.JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            (int Code, string Out, string Err) status;
            try
            {
                status = Run(Client, $"status --run {run} --json --gateway {gateway}");
            }
            catch (TimeoutException e)
            {
                // A client that hangs on a busy machine is asked again; only the deadline fails the wait.
                last = e.Message;
                continue;
            }
            last = status.Code == 0 ? status.Out : status.Err;
            if (status.Code == 0)
            {
                var state = System.Text.Json.JsonDocument.Parse(status.Out).RootElement.GetProperty("runs")[0];
                Assert.DoesNotContain("failed", state.GetProperty("phase").GetString());
                if (condition(state)) return state.Clone();
            }
            await Task.Delay(1000);
        }
        throw new TimeoutException($"run {run} did not get there in 3 minutes; last status: {last}");
    }
}
