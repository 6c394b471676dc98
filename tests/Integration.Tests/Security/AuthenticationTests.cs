using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Streaming.Security;

namespace Streaming.Integration.Tests.Security;

/// <summary>
/// Mutual TLS, end to end with the silo and client executables: the silo's credential lets a client in, another one or
/// none is refused in one line, the Orleans ports take no connection without the certificate, and the HTTP port only reads.
/// </summary>
public sealed class AuthenticationTests(AuthenticationTests.SecuredSilo fixture) : IClassFixture<AuthenticationTests.SecuredSilo>
{
    /// <summary>One silo for all the tests here, with a credential of its own, and another credential beside it.</summary>
    public sealed class SecuredSilo : IAsyncLifetime
    {
        public string Folder { get; } = Directory.CreateTempSubdirectory("streaming-auth-").FullName;
        public string Credential => Path.Combine(Folder, "cluster.pfx");
        public string Other => Path.Combine(Folder, "other.pfx");
        public SiloProcess Silo { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            ClusterCredential.CreateNew(Credential, overwrite: false);
            ClusterCredential.CreateNew(Other, overwrite: false);
            Silo = new SiloProcess(Path.Combine(Folder, "data"), credentials: Credential);
            try
            {
                await Silo.StartAsync();
            }
            catch
            {
                await DisposeAsync();   // xunit does not dispose a fixture that failed to start: the silo would stay
                throw;
            }
        }

        public async Task DisposeAsync()
        {
            await Silo.DisposeAsync();
            Directory.Delete(Folder, recursive: true);
        }
    }

    readonly string folder = fixture.Folder;
    readonly SiloProcess silo = fixture.Silo;
    string Credential => fixture.Credential;
    string Other => fixture.Other;

    [Fact]
    public void AClientWithTheSilosCredentialCreatesARunAndIngests()
    {
        var corpus = Path.Combine(folder, "notes.txt");
        File.WriteAllText(corpus, string.Join("\n\n", Enumerable.Range(0, 40).Select(i => $"Paragraph {i} of a small corpus, long enough to train.")));
        // The variable, as a Kubernetes pod or a script sets it, instead of the flag.
        void WithVariable(System.Diagnostics.ProcessStartInfo start) => start.Environment[CredentialLocation.Variable] = Credential;
        var created = Executables.Run(Executables.Client, $"run create auth --gateway {silo.Gateway}", configure: WithVariable);
        Assert.True(created.Code == 0, created.Err);
        var ingested = Executables.Run(Executables.Client, $"ingest --run auth {corpus} --gateway {silo.Gateway} --progress never", configure: WithVariable);
        Assert.True(ingested.Code == 0, ingested.Err);
        Assert.StartsWith("queued notes on run auth", ingested.Out.Trim());
    }

    [Fact]
    public void AClientWithAnotherCredentialIsRefusedInOneLineAndChangesNothing()
    {
        foreach (var command in new[] { "status", "run create intruder" })
        {
            var refused = Executables.Run(Executables.Client, $"{command} --gateway {silo.Gateway} --credentials {Other}");
            Assert.Equal(2, refused.Code);
            var line = Assert.Single(refused.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"error: the silo at localhost:{silo.Gateway} refused this client's credentials: it holds another cluster credential", line);
            Assert.Equal("", refused.Out);
        }
        Assert.Contains("warning: refused a connection from a peer that holds another cluster credential", silo.Log);
        var status = silo.Client("status --json");
        Assert.True(status.Code == 0, status.Err);
        Assert.DoesNotContain("intruder", status.Out);
    }

    [Fact]
    public void AClientWithoutACredentialIsRefusedInOneLine()
    {
        var empty = Directory.CreateDirectory(Path.Combine(folder, "empty-config")).FullName;
        var refused = Executables.Run(Executables.Client, $"status --gateway {silo.Gateway}", configure: start =>
        {
            start.Environment["XDG_CONFIG_HOME"] = empty;
            start.Environment.Remove(CredentialLocation.Variable);
        });
        Assert.Equal(2, refused.Code);
        Assert.Equal($"error: no cluster credential at '{Path.Combine(empty, "streaming", "cluster.pfx")}' (a silo creates it at its first start on this machine); "
            + $"give the silo's with --credentials FILE or {CredentialLocation.Variable}", refused.Err.Trim());
        Assert.False(File.Exists(Path.Combine(empty, "streaming", "cluster.pfx")), "a client must never make up a credential");
    }

    /// <summary>Below Orleans: a TLS client without a certificate, or with another one, gets no connection on either port;
    /// with the credential it does, and the silo presents that same certificate.</summary>
    [Fact]
    public async Task TheSiloAndGatewayPortsTakeOnlyTheCredential()
    {
        using var own = ClusterCredential.Load(Credential);
        using var other = ClusterCredential.Load(Other);
        foreach (var port in new[] { silo.Gateway, silo.SiloPort })
        {
            Assert.False(await AcceptedAsync(port, null, null), $"port {port} took a client without a certificate");
            Assert.False(await AcceptedAsync(port, other.Certificate, null), $"port {port} took another credential");
            string? presented = null;
            Assert.True(await AcceptedAsync(port, own.Certificate, c => presented = ClusterCredential.FingerprintOf(c)), $"port {port} refused the credential");
            Assert.Equal(own.Fingerprint, presented);
        }
    }

    /// <summary>Whether the port keeps a TLS connection open for this client certificate. Under TLS 1.3 the server checks the
    /// client's certificate after the client has finished its handshake, so a refusal shows as the connection closing.</summary>
    static async Task<bool> AcceptedAsync(int port, X509Certificate2? certificate, Action<X509Certificate>? server)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, presented, _, _) =>
        {
            if (presented is not null) server?.Invoke(presented);
            return true;
        });
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = ClusterCredential.Subject,
                ClientCertificates = certificate is null ? null : [certificate],
            }).WaitAsync(TimeSpan.FromSeconds(30));
            var read = await tls.ReadAsync(new byte[64]).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            return read > 0;   // Orleans' preamble: the connection is open
        }
        catch (TimeoutException)
        {
            return true;   // open, waiting for this client's preamble
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            return false;
        }
    }

    [Fact]
    public async Task TheHttpPortAnswersReadsOnly()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{silo.HttpPort}") };
        foreach (var path in new[] { "/metrics", "/health", "/health/live", "/health/ready" })
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(path)).StatusCode);
            foreach (var method in new[] { HttpMethod.Post, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
            {
                using var response = await http.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent("{}") });
                Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
            }
        }
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/runs")).StatusCode);
    }

    [Fact]
    public void ASiloWhoseCredentialIsMissingSaysSoInOneLine()
    {
        var missing = Path.Combine(folder, "missing.pfx");
        var (code, _, stderr) = Executables.Run(Executables.Silo,
            $"--http-port 0 --silo-port {Executables.FreePort()} --gateway-port {Executables.FreePort()} --credentials {missing}");
        Assert.Equal(2, code);
        Assert.Equal($"error: no cluster credential at '{missing}'",
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:")));
        Assert.DoesNotContain("   at ", stderr);
        Assert.False(File.Exists(missing), "a credential given by name is the operator's: the silo never makes one up there");
    }
}
