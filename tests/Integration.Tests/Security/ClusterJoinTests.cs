using System.Diagnostics;
using Streaming.Integration.Tests.Persistence;
using Streaming.Security;

namespace Streaming.Integration.Tests.Security;

/// <summary>A silo with another credential cannot join a Redis-clustered silo: it reaches Redis, but the cluster's silo refuses
/// its connections, declares it dead, and it stops; the cluster goes on serving.</summary>
public sealed class ClusterJoinTests : IAsyncLifetime
{
    readonly string folder = Directory.CreateTempSubdirectory("streaming-join-").FullName;
    RedisServer redis = null!;

    public async Task InitializeAsync() => redis = await RedisServer.StartAsync();

    [Fact]
    public async Task ASiloWithAnotherCredentialCannotJoin()
    {
        var cluster = Path.Combine(folder, "cluster.pfx");
        var other = Path.Combine(folder, "other.pfx");
        ClusterCredential.CreateNew(cluster, overwrite: false);
        ClusterCredential.CreateNew(other, overwrite: false);
        var clustered = $"--cluster redis --redis {redis.ConnectionString} --advertise-ip 127.0.0.1";
        await using var member = new SiloProcess(Path.Combine(folder, "data"), clustered, credentials: cluster);
        await member.StartAsync();

        using var intruder = Executables.Start(Executables.Silo, $"{clustered} --data {Path.Combine(folder, "data")} --device cpu --http-port 0 "
            + $"--silo-port {Executables.FreePort()} --gateway-port {Executables.FreePort()} --credentials {other}");
        var stderr = intruder.StandardError.ReadToEndAsync();
        var stdout = intruder.StandardOutput.ReadToEndAsync();
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            await intruder.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            intruder.Kill(entireProcessTree: true);
            Assert.Fail($"the silo with another credential was still running after 4 minutes:\n{await stderr}");
        }
        Assert.NotEqual(0, intruder.ExitCode);
        Assert.Contains("warning: refused a connection from a peer that holds another cluster credential", await stderr + await stdout);
        Assert.Contains("warning: refused a connection from a peer that holds another cluster credential", member.Log);

        var status = member.Client("status");
        Assert.True(status.Code == 0, $"the cluster's silo stopped serving: {status.Err}\n{member.Log}");
    }

    public async Task DisposeAsync()
    {
        await redis.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }
}
