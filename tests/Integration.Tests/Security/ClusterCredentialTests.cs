using Streaming.Security;

namespace Streaming.Integration.Tests.Security;

/// <summary>The credential file: created once however many silos start at once, private to its owner, and a bad one is one line.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]   // file modes
public sealed class ClusterCredentialTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("streaming-credential-").FullName;

    [Fact]
    public async Task SilosStartingAtOnceEndWithOneCredential()
    {
        var path = Path.Combine(folder, "streaming", "cluster.pfx");
        using var start = new Barrier(8);
        var fingerprints = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            using var credential = ClusterCredential.LoadOrCreate(path);
            return credential.Fingerprint;
        })));
        Assert.Single(fingerprints.Distinct());
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));   // no half-written leftovers
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        using var again = ClusterCredential.LoadOrCreate(path);
        Assert.Equal(fingerprints[0], again.Fingerprint);
    }

    [Fact]
    public void ACredentialAcceptsItsOwnCertificateOnly()
    {
        ClusterCredential.CreateNew(Path.Combine(folder, "a.pfx"), overwrite: false);
        ClusterCredential.CreateNew(Path.Combine(folder, "b.pfx"), overwrite: false);
        using var a = ClusterCredential.Load(Path.Combine(folder, "a.pfx"));
        using var sameFile = ClusterCredential.Load(Path.Combine(folder, "a.pfx"));
        using var b = ClusterCredential.Load(Path.Combine(folder, "b.pfx"));
        Assert.True(a.Accepts(sameFile.Certificate));
        Assert.False(a.Accepts(b.Certificate));
        Assert.False(a.Accepts(null));
        Assert.NotEqual(a.Fingerprint, b.Fingerprint);
    }

    [Fact]
    public void AFileThatIsNoCredentialIsOneLine()
    {
        var path = Path.Combine(folder, "cluster.pfx");
        File.WriteAllText(path, "not a certificate");
        var error = Assert.Throws<CredentialException>(() => ClusterCredential.Load(path));
        Assert.Equal($"'{path}' is not a cluster credential (a PFX without password, as `streaming credentials create` writes)", error.Message);
    }

    [Fact]
    public void ACertificateWithoutItsKeyIsRefused()
    {
        ClusterCredential.CreateNew(Path.Combine(folder, "full.pfx"), overwrite: false);
        using var full = ClusterCredential.Load(Path.Combine(folder, "full.pfx"));
        using var publicOnly = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(full.Certificate.RawData);
        var path = Path.Combine(folder, "public.pfx");
        File.WriteAllBytes(path, publicOnly.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12));
        var error = Assert.Throws<CredentialException>(() => ClusterCredential.Load(path));
        Assert.Contains("without its private key", error.Message);
    }

    [Fact]
    public void TheDefaultIsUnderXdgConfigHomeAndAGivenFileWins()
    {
        var environment = new System.Collections.Hashtable { ["XDG_CONFIG_HOME"] = folder };
        Assert.Equal(new CredentialLocation(Path.Combine(folder, "streaming", "cluster.pfx"), IsDefault: true), CredentialLocation.Resolve(null, environment));
        environment[CredentialLocation.Variable] = "/secrets/cluster.pfx";
        Assert.Equal(new CredentialLocation("/secrets/cluster.pfx", IsDefault: false), CredentialLocation.Resolve(null, environment));
        Assert.Equal(new CredentialLocation("/flag.pfx", IsDefault: false), CredentialLocation.Resolve("/flag.pfx", environment));
    }

    [Fact]
    public void CredentialsCreateWritesANewOneAndKeepsAnExistingOne()
    {
        var path = Path.Combine(folder, "k8s.pfx");
        var created = Executables.Run(Executables.Client, $"credentials create {path}");
        Assert.Equal(0, created.Code);
        string first;
        using (var credential = ClusterCredential.Load(path)) first = credential.Fingerprint;
        Assert.Equal($"wrote cluster credential {path} (certificate {first})", created.Out.Trim());

        var again = Executables.Run(Executables.Client, $"credentials create {path}");
        Assert.Equal(2, again.Code);
        Assert.Equal($"error: '{path}' exists; --force replaces it", again.Err.Trim());
        using (var credential = ClusterCredential.Load(path)) Assert.Equal(first, credential.Fingerprint);

        Assert.Equal(0, Executables.Run(Executables.Client, $"credentials create {path} --force").Code);
        using (var credential = ClusterCredential.Load(path)) Assert.NotEqual(first, credential.Fingerprint);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
