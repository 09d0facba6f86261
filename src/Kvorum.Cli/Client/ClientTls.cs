using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Kvorum.Server.Security;

namespace Kvorum.Cli.Client;

/// <summary>
/// The TLS of a client command, from etcdctl's flags: <c>--cacert</c> (the CA the server's certificate must chain to;
/// the system's CAs when absent), <c>--cert</c> and <c>--key</c> (the certificate presented, for client-cert auth), and
/// <c>--insecure-skip-tls-verify</c> (accept any server certificate). The files are read once, when the command starts.
/// </summary>
internal sealed class ClientTls
{
    private readonly X509Certificate2Collection? _authorities;
    private readonly X509Certificate2? _certificate;
    private readonly bool _skipVerify;

    private ClientTls(X509Certificate2Collection? authorities, X509Certificate2? certificate, bool skipVerify)
    {
        _authorities = authorities;
        _certificate = certificate;
        _skipVerify = skipVerify;
    }

    /// <summary>Reads the files; null when no TLS flag is given.</summary>
    /// <param name="caCert"><c>--cacert</c>.</param>
    /// <param name="cert"><c>--cert</c>.</param>
    /// <param name="key"><c>--key</c>.</param>
    /// <param name="skipVerify"><c>--insecure-skip-tls-verify</c>.</param>
    /// <returns>The settings, or null for cleartext.</returns>
    /// <exception cref="UsageException">Only one of <c>--cert</c> and <c>--key</c> is given.</exception>
    /// <exception cref="CommandFailedException">A file cannot be used.</exception>
    public static ClientTls? Create(string? caCert, string? cert, string? key, bool skipVerify)
    {
        if (caCert is null && cert is null && key is null && !skipVerify)
            return null;
        if ((cert is null) != (key is null))
            throw new UsageException(cert is null ? "--key needs --cert" : "--cert needs --key");
        try
        {
            return new ClientTls(
                caCert is null ? null : CertificateFiles.LoadAuthorities(caCert),
                cert is null ? null : CertificateFiles.LoadIdentity(cert, key!),
                skipVerify);
        }
        catch (TlsSetupException e)
        {
            throw new CommandFailedException($"Error: {e.Message}", e);
        }
    }

    /// <summary>The options of one connection's handshake.</summary>
    /// <returns>Fresh options.</returns>
    public SslClientAuthenticationOptions Options() => new()
    {
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ClientCertificates = _certificate is null ? null : [_certificate],
        RemoteCertificateValidationCallback = (_, certificate, _, errors) => _skipVerify || Accepts(certificate as X509Certificate2, errors),
    };

    private bool Accepts(X509Certificate2? certificate, SslPolicyErrors errors)
    {
        if (_authorities is null)
            return errors == SslPolicyErrors.None;
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
