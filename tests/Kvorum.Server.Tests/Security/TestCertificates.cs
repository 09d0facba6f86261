using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Kvorum.Server.Security;

namespace Kvorum.Server.Tests.Security;

/// <summary>
/// PEM files of a throwaway CA in a temporary directory: the CA, and certificates it issues on demand (members,
/// clients), plus a stranger's CA for the refusals.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private readonly ThrowawayCertificateAuthority _ca = ThrowawayCertificateAuthority.Create("test CA");

    public TestCertificates()
    {
        Directory.CreateDirectory(Root);
        _ca.WriteRootPem(CaFile);
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "kvorum-tls-" + Guid.NewGuid().ToString("N"));

    public string CaFile => Path.Combine(Root, "ca.pem");

    public ThrowawayCertificateAuthority Authority => _ca;

    /// <summary>Issues a certificate for <paramref name="name"/> and writes it as name.pem and name-key.pem.</summary>
    public (string Cert, string Key, X509Certificate2 Certificate) Issue(string name, ThrowawayCertificateAuthority? by = null, DateTimeOffset? notAfter = null)
    {
        var certificate = (by ?? _ca).Issue(name, notAfter: notAfter);
        var cert = Path.Combine(Root, name + ".pem");
        var key = Path.Combine(Root, name + "-key.pem");
        ThrowawayCertificateAuthority.WritePem(certificate, cert, key);
        certificate.Dispose();
        // As a user's client would: from the files.
        return (cert, key, X509Certificate2.CreateFromPemFile(cert, key));
    }

    /// <summary>The client-cert and peer settings of a member with <paramref name="name"/>'s certificate.</summary>
    public TlsSettings MutualTls(string name)
    {
        var (cert, key, _) = File.Exists(Path.Combine(Root, name + ".pem"))
            ? (Path.Combine(Root, name + ".pem"), Path.Combine(Root, name + "-key.pem"), null!)
            : Issue(name);
        return new TlsSettings { CertFile = cert, KeyFile = key, TrustedCaFile = CaFile, ClientCertAuth = true };
    }

    /// <summary>A TLS client's options: trusts this CA, presents <paramref name="client"/> if given.</summary>
    public SslClientAuthenticationOptions ClientOptions(X509Certificate2? client)
    {
        using var root = X509CertificateLoader.LoadCertificate(_ca.Root.RawData);
        var trust = root.RawData;
        return new SslClientAuthenticationOptions
        {
            ClientCertificates = client is null ? null : [client],
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is not X509Certificate2 presented)
                    return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificate(trust));
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(presented);
            },
        };
    }

    public void Dispose()
    {
        _ca.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
