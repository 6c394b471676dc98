using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Streaming.Security;

/// <summary>
/// The one secret of a cluster: a self-signed certificate with its private key, kept as a PFX file. Every silo and
/// client presents it, and accepts a peer only if the peer presents the very same certificate (pinned by its SHA-256
/// hash): no certificate authority, host name or expiry is trusted, only possession of the file.
/// </summary>
public sealed class ClusterCredential : IDisposable
{
    /// <summary>The subject of created credentials; also the TLS host name, which nobody checks.</summary>
    public const string Subject = "streaming-cluster";

    readonly byte[] hash;

    ClusterCredential(X509Certificate2 certificate)
    {
        Certificate = certificate;
        hash = certificate.GetCertHash(HashAlgorithmName.SHA256);
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>The certificate's SHA-256 (its first 16 hex digits), to tell two credentials apart in logs and errors (public: no key in it).</summary>
    public string Fingerprint => FingerprintOf(hash);

    public static string FingerprintOf(X509Certificate certificate) => FingerprintOf(certificate.GetCertHash(HashAlgorithmName.SHA256));

    static string FingerprintOf(byte[] sha256) => Convert.ToHexString(sha256)[..16].ToLowerInvariant();

    /// <summary>Whether a peer presented this cluster's certificate.</summary>
    public bool Accepts(X509Certificate? peer) =>
        peer is not null && CryptographicOperations.FixedTimeEquals(peer.GetCertHash(HashAlgorithmName.SHA256), hash);

    /// <summary>Reads a PFX (no password; the file's permissions and the Kubernetes Secret protect it).</summary>
    public static ClusterCredential Load(string path)
    {
        if (!File.Exists(path)) throw new CredentialException($"no cluster credential at '{path}'");
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
        }
        catch (CryptographicException)
        {
            throw new CredentialException($"'{path}' is not a cluster credential (a PFX without password, as `streaming credentials create` writes)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CredentialException($"cannot read the cluster credential '{path}': {e.Message}");
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new CredentialException($"'{path}' holds a certificate without its private key: it cannot prove anything");
        }
        return new ClusterCredential(certificate);
    }

    /// <summary>
    /// Writes a new credential to <paramref name="path"/> (mode 0600) unless a file is there; either way returns the
    /// credential the file holds then. The file appears whole or not at all (written aside, then linked in), so two
    /// silos that start at once end with one file, and both use it.
    /// </summary>
    public static ClusterCredential LoadOrCreate(string path)
    {
        if (!File.Exists(path)) CreateNew(path, overwrite: false);
        return Load(path);
    }

    /// <summary>Writes a new credential to <paramref name="path"/>; an existing file is replaced only when asked.</summary>
    public static void CreateNew(string path, bool overwrite)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var aside = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using (var file = new FileStream(aside, new FileStreamOptions
                   {
                       Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                   }))
            {
                file.Write(NewPfx());
                file.Flush(flushToDisk: true);
            }
            // Without overwrite, .NET moves by hard link then unlink: it fails if another process got there first.
            File.Move(aside, path, overwrite);
        }
        catch (IOException) when (!overwrite && File.Exists(path))
        {
            // Another silo created it between our look and our move: theirs is the cluster's.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CredentialException($"cannot write the cluster credential '{path}': {e.Message}");
        }
        finally
        {
            File.Delete(aside);
        }
    }

    /// <summary>A self-signed P-256 certificate usable for both ends of TLS, with its key, as PFX bytes.</summary>
    static byte[] NewPfx()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={Subject}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        // Both usages: every silo is a TLS server (its ports) and a TLS client (of other silos); a CLI is a client.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(Subject);
        request.CertificateExtensions.Add(names.Build());
        // Expiry is not checked (the certificate is pinned), so a long life only keeps other tools from complaining.
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(100));
        return certificate.Export(X509ContentType.Pkcs12);
    }

    public void Dispose() => Certificate.Dispose();
}
