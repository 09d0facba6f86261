using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Kvorum.Server.Security;

/// <summary>
/// A certificate authority made on the spot, for <c>--auto-tls</c>, <c>kvorum cluster up --tls</c> and tests: an ECDSA
/// P-256 root that issues member and client certificates valid for loopback (SANs <c>127.0.0.1</c>, <c>::1</c> and
/// <c>localhost</c>, plus any addresses asked for), with the .NET certificate APIs alone, no openssl.
/// </summary>
/// <remarks>
/// Member certificates carry both the server and the client key usage, as etcd's guide recommends: a member presents
/// the same certificate when it dials its peers, and the member's own loopback client presents it to its client port.
/// </remarks>
internal sealed class ThrowawayCertificateAuthority : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    private long _serial;

    private ThrowawayCertificateAuthority(X509Certificate2 root) => Root = root;

    /// <summary>The root certificate, with its private key.</summary>
    public X509Certificate2 Root { get; }

    /// <summary>Makes a new root named <paramref name="commonName"/>, valid from <paramref name="notBefore"/> for <paramref name="lifetime"/>.</summary>
    /// <param name="commonName">The root's CN.</param>
    /// <param name="lifetime">How long it is valid; one year when null.</param>
    /// <param name="notBefore">Start of validity; an hour ago when null (earlier, to issue certificates that have expired).</param>
    /// <returns>The authority.</returns>
    public static ThrowawayCertificateAuthority Create(string commonName = "kvorum throwaway CA", TimeSpan? lifetime = null, DateTimeOffset? notBefore = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var from = notBefore ?? DateTimeOffset.UtcNow.AddHours(-1);
        return new ThrowawayCertificateAuthority(request.CreateSelfSigned(from, from + (lifetime ?? TimeSpan.FromDays(365))));
    }

    /// <summary>
    /// A self-signed certificate for loopback and <paramref name="hosts"/>, as etcd's <c>--auto-tls</c> makes: it proves
    /// nothing about its holder, it only encrypts.
    /// </summary>
    /// <param name="commonName">The CN.</param>
    /// <param name="hosts">Extra IP addresses or DNS names.</param>
    /// <returns>The certificate with its private key.</returns>
    public static X509Certificate2 SelfSigned(string commonName, IEnumerable<string>? hosts = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = LeafRequest(commonName, key, hosts ?? []);
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddHours(-1), now.AddYears(1));
    }

    /// <summary>Issues a certificate signed by <see cref="Root"/>, usable as server and as client.</summary>
    /// <param name="commonName">The CN (what <c>--peer-cert-allowed-cn</c> compares, and the user name under client-cert auth).</param>
    /// <param name="hosts">Extra IP addresses or DNS names for the SANs.</param>
    /// <param name="notBefore">Start of validity; an hour ago when null.</param>
    /// <param name="notAfter">End of validity; a year from now when null (an expired one for tests: a time in the past).</param>
    /// <returns>The certificate with its private key.</returns>
    public X509Certificate2 Issue(string commonName, IEnumerable<string>? hosts = null, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = LeafRequest(commonName, key, hosts ?? []);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Root, true, false));
        var now = DateTimeOffset.UtcNow;
        var from = notBefore ?? now.AddHours(-1);
        var to = notAfter ?? now.AddYears(1);
        if (from < Root.NotBefore)
            from = Root.NotBefore;
        if (to > Root.NotAfter)
            to = Root.NotAfter;
        var serial = BitConverter.GetBytes(Interlocked.Increment(ref _serial) + (DateTime.UtcNow.Ticks & 0x7fff_ffff_0000));
        Array.Reverse(serial);
        serial[0] &= 0x7f;
        using var issued = request.Create(Root, from, to, serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>A DER certificate revocation list signed by <see cref="Root"/> that revokes <paramref name="revoked"/>.</summary>
    /// <param name="revoked">Certificates issued by this authority.</param>
    /// <returns>The CRL bytes (DER).</returns>
    public byte[] RevocationList(IEnumerable<X509Certificate2> revoked)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var certificate in revoked)
            builder.AddEntry(certificate, DateTimeOffset.UtcNow.AddMinutes(-1));
        return builder.Build(Root, 1, DateTimeOffset.UtcNow.AddDays(7), HashAlgorithmName.SHA256);
    }

    /// <summary>Writes <paramref name="certificate"/> and its private key as PEM files (the key readable by the owner only).</summary>
    /// <param name="certificate">A certificate with its private key.</param>
    /// <param name="certFile">Where the certificate goes.</param>
    /// <param name="keyFile">Where the PKCS#8 private key goes.</param>
    public static void WritePem(X509Certificate2 certificate, string certFile, string keyFile)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        File.WriteAllText(certFile, certificate.ExportCertificatePem() + "\n");
        using var key = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("the certificate has no ECDSA private key", nameof(certificate));
        var pem = key.ExportPkcs8PrivateKeyPem() + "\n";
        if (OperatingSystem.IsWindows())
        {
            File.WriteAllText(keyFile, pem);
            return;
        }
        using var stream = new FileStream(keyFile, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using var writer = new StreamWriter(stream);
        writer.Write(pem);
    }

    /// <summary>Writes the root certificate (without its key) as a PEM file, for <c>--trusted-ca-file</c> and <c>--cacert</c>.</summary>
    /// <param name="path">The file.</param>
    public void WriteRootPem(string path) => File.WriteAllText(path, Root.ExportCertificatePem() + "\n");

    /// <summary>
    /// Makes a new CA named <paramref name="caName"/> and writes, into <paramref name="directory"/>, what a local
    /// cluster over mutual TLS needs (<c>cluster up --tls</c>, <c>lab up --tls</c>): <c>ca.pem</c>, for each member
    /// <c>NAME.pem</c> and <c>NAME-key.pem</c> (for its host names), and the client's <c>client.pem</c> and
    /// <c>client-key.pem</c> (CN <c>root</c>).
    /// </summary>
    /// <param name="directory">Where the files go; created if missing.</param>
    /// <param name="caName">The CA's common name.</param>
    /// <param name="members">Each member's name and the host names its certificate holds (null for the defaults).</param>
    public static void WriteClusterFiles(string directory, string caName, IEnumerable<(string Name, IEnumerable<string>? Hosts)> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        Directory.CreateDirectory(directory);
        using var ca = Create(caName);
        ca.WriteRootPem(Path.Combine(directory, "ca.pem"));
        foreach (var (name, hosts) in members)
        {
            using var certificate = ca.Issue(name, hosts);
            WritePem(certificate, Path.Combine(directory, $"{name}.pem"), Path.Combine(directory, $"{name}-key.pem"));
        }
        using var client = ca.Issue("root");
        WritePem(client, Path.Combine(directory, "client.pem"), Path.Combine(directory, "client-key.pem"));
    }

    private static CertificateRequest LeafRequest(string commonName, ECDsa key, IEnumerable<string> hosts)
    {
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth, ClientAuth], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        names.AddDnsName("localhost");
        foreach (var host in hosts.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(host, out var address))
            {
                if (!address.Equals(IPAddress.Loopback) && !address.Equals(IPAddress.IPv6Loopback))
                    names.AddIpAddress(address);
            }
            else if (!string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            {
                names.AddDnsName(host);
            }
        }
        request.CertificateExtensions.Add(names.Build());
        return request;
    }

    /// <inheritdoc/>
    public void Dispose() => Root.Dispose();
}
