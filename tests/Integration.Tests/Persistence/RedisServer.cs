using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Streaming.Integration.Tests.Persistence;

/// <summary>
/// A throwaway redis-server (Debian's package) on 127.0.0.1 and a free port; killed on dispose. Without persistence by
/// default; <see cref="StartAppendOnlyAsync"/> runs it as deploy/k8s does (an append-only file, fsync every second, in
/// a data folder of its own), so that it can be stopped and started again on the same port with the same data.
/// </summary>
sealed class RedisServer : IAsyncDisposable
{
    Process? process;
    readonly string? dataDirectory;

    RedisServer(int port, string? dataDirectory)
    {
        Port = port;
        this.dataDirectory = dataDirectory;
    }

    public int Port { get; }
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Whether redis-server is running (between <see cref="StopAsync"/> and <see cref="RestartAsync"/> it is not).</summary>
    public bool IsRunning => process is { HasExited: false };

    public static Task<RedisServer> StartAsync() => StartAsync(dataDirectory: null);

    /// <summary>A redis-server with the deployment's persistence: appendonly yes, appendfsync everysec.</summary>
    public static Task<RedisServer> StartAppendOnlyAsync() =>
        StartAsync(Directory.CreateTempSubdirectory("streaming-redis-").FullName);

    static async Task<RedisServer> StartAsync(string? dataDirectory)
    {
        var server = new RedisServer(Executables.FreePort(), dataDirectory);
        await server.LaunchAsync();
        return server;
    }

    /// <summary>Stops redis-server: SIGTERM (it writes and syncs its append-only file, then exits) or SIGKILL (no flush:
    /// up to a second of writes may be lost, as with a killed pod). Waits for the process to exit.</summary>
    public async Task StopAsync(bool kill)
    {
        if (process is not { } running) return;
        if (kill) running.Kill();
        else
            using (var term = Process.Start("kill", $"-TERM {running.Id}")!) await term.WaitForExitAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await running.WaitForExitAsync(deadline.Token);
        running.Dispose();
        process = null;
    }

    /// <summary>Starts redis-server again on the same port with the same data folder (it reloads the append-only file).</summary>
    public Task RestartAsync()
    {
        if (process is not null) throw new InvalidOperationException("redis-server is still running; stop it first");
        return LaunchAsync();
    }

    async Task LaunchAsync()
    {
        var executable = Executables.Find("redis-server") ?? throw new InvalidOperationException(
            "redis-server is not installed; the Redis storage tests need it: apt-get install -y redis-server (test.sh does this)");
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] persistence = dataDirectory is null
            ? ["--save", "", "--appendonly", "no"]
            : ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", dataDirectory];
        foreach (var arg in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--daemonize", "no" }.Concat(persistence))
            info.ArgumentList.Add(arg);
        var started = Process.Start(info) ?? throw new InvalidOperationException("could not start redis-server");
        started.OutputDataReceived += (_, _) => { };
        started.ErrorDataReceived += (_, _) => { };
        started.BeginOutputReadLine();
        started.BeginErrorReadLine();
        process = started;
        // A restart may find the port still in TIME_WAIT's shadow or the file still loading: allow the same 20 s.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            if (started.HasExited)
                throw new InvalidOperationException($"redis-server exited at start with code {started.ExitCode}");
            if (await PingAsync(Port)) return;
            if (DateTime.UtcNow > deadline)
            {
                await StopAsync(kill: true);
                throw new TimeoutException($"redis-server did not answer PING on port {Port} within 20 s");
            }
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(kill: true);
        if (dataDirectory is not null && Directory.Exists(dataDirectory)) Directory.Delete(dataDirectory, recursive: true);
    }

    static async Task<bool> PingAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(2));
            return System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG");
        }
        catch (Exception e) when (e is SocketException or IOException or TimeoutException)
        {
            return false;
        }
    }
}
