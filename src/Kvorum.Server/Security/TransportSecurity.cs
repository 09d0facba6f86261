using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Kvorum.Server.Security;

/// <summary>
/// The TLS of one side of a member (its client port or its peer port), ready to use: the certificate it presents,
/// reloaded when its files change; what it accepts from the other end (a certificate chaining to the trusted CAs, not
/// revoked, with the allowed CN); the listener options for Kestrel and the client options for dialing.
/// </summary>
internal sealed class TransportSecurity
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    private readonly TlsSettings _settings;
    private readonly ReloadingFileValue<X509Certificate2>? _identity;
    private readonly X509Certificate2? _selfSigned;
    private readonly ReloadingFileValue<X509Certificate2Collection>? _authorities;
    private readonly ReloadingFileValue<RevocationList>? _revoked;

    /// <summary>The last handshake's certificate context, and what it was made from; replaced whole, read without a lock.</summary>
    private volatile ContextEntry? _context;

    private TransportSecurity(TlsSettings settings, string selfSignedName, IEnumerable<string> hosts, Action<string>? reloadFailed)
    {
        _settings = settings;
        if (settings.CertFile is { } certFile)
        {
            var keyFile = settings.KeyFile ?? throw new TlsSetupException($"a key file is needed with the certificate {certFile}");
            _identity = new ReloadingFileValue<X509Certificate2>(() => CertificateFiles.LoadIdentity(certFile, keyFile), reloadFailed, certFile, keyFile);
        }
        else
        {
            _selfSigned = ThrowawayCertificateAuthority.SelfSigned(selfSignedName, hosts);
        }
        if (settings.TrustedCaFile is { } caFile)
            _authorities = new ReloadingFileValue<X509Certificate2Collection>(() => CertificateFiles.LoadAuthorities(caFile), reloadFailed, caFile);
        if (settings.CrlFile is { } crlFile)
            _revoked = new ReloadingFileValue<RevocationList>(() => CertificateFiles.LoadRevocationList(crlFile), reloadFailed, crlFile);
    }

    /// <summary>
    /// Reads and checks the files of <paramref name="settings"/>; null when that side has no TLS.
    /// </summary>
    /// <param name="settings">The flags of one side.</param>
    /// <param name="selfSignedName">The CN of the certificate <c>--auto-tls</c> makes.</param>
    /// <param name="hosts">The hosts of the side's URLs, for the SANs of an auto-TLS certificate.</param>
    /// <param name="reloadFailed">Told why a changed file could not be loaded (the old one stays in use).</param>
    /// <returns>The side's security, or null.</returns>
    /// <exception cref="TlsSetupException">A file cannot be used, or client-cert auth has no CA to check against.</exception>
    public static TransportSecurity? Create(TlsSettings settings, string selfSignedName, IEnumerable<string> hosts, Action<string>? reloadFailed = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(hosts);
        return settings.Enabled ? new TransportSecurity(settings, selfSignedName, hosts, reloadFailed) : null;
    }

    /// <summary>The certificate presented now: the files' current one, or the auto-TLS one.</summary>
    public X509Certificate2 Certificate => _selfSigned ?? _identity!.Current;

    /// <summary>Whether the other end must present a certificate.</summary>
    public bool RequiresCertificate => _settings.ClientCertAuth;

    /// <summary>Turns TLS on for a Kestrel listener (HTTP/2 is negotiated by ALPN).</summary>
    /// <param name="listen">The listener; call before any connection middleware that must see plaintext.</param>
    public void UseOn(ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = Certificate,
            ClientCertificateMode = _settings.ClientCertAuth ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.NoCertificate,
            ClientCertificateValidation = (certificate, _, _) => AcceptsPeer(certificate, ClientAuth),
            CheckCertificateRevocation = false,
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            OnAuthenticate = (_, options) =>
            {
                options.ServerCertificate = null;
                options.ServerCertificateSelectionCallback = null;
                options.ServerCertificateContext = CertificateContext();
                options.CipherSuitesPolicy = Policy();
            },
        });
    }

    /// <summary>
    /// The certificate to present now, with the trusted CAs named in the handshake's certificate request: a .NET client
    /// (dotnet-etcd) given several certificates, or one, sends only one issued by a CA the server names, so without
    /// the names it would send none. Made again only when the certificate or the CAs change.
    /// </summary>
    private SslStreamCertificateContext CertificateContext()
    {
        var certificate = Certificate;
        var authorities = _authorities?.Current;
        var cached = _context;
        if (cached is not null && ReferenceEquals(cached.Certificate, certificate) && ReferenceEquals(cached.Authorities, authorities))
            return cached.Context;
        var trust = authorities is null ? null : SslCertificateTrust.CreateForX509Collection(authorities, sendTrustInHandshake: true);
        var context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true, trust);
        _context = new ContextEntry(certificate, authorities, context);
        return context;
    }

    private sealed record ContextEntry(X509Certificate2 Certificate, X509Certificate2Collection? Authorities, SslStreamCertificateContext Context);

    /// <summary>
    /// The options of a TLS client that dials the other side (a member dialing a peer, a client dialing a member): it
    /// presents <see cref="Certificate"/> and checks the server's against the trusted CAs (and its name against the
    /// URL's host); with auto TLS and no CA, as etcd, it checks nothing.
    /// </summary>
    /// <returns>Fresh options.</returns>
    public SslClientAuthenticationOptions ClientOptions() => new()
    {
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        LocalCertificateSelectionCallback = (_, _, _, _, _) => Certificate,
        RemoteCertificateValidationCallback = (_, certificate, _, errors) => AcceptsServer(certificate as X509Certificate2, errors),
        CipherSuitesPolicy = Policy(),
    };

    /// <summary>
    /// The options of this member's client of its own listener (the Lock and Election services' loopback): it presents
    /// <see cref="Certificate"/>, as etcd's own gateway does, and accepts only the certificate the listener presents now.
    /// </summary>
    /// <returns>Fresh options.</returns>
    public SslClientAuthenticationOptions OwnListenerClientOptions() => new()
    {
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        LocalCertificateSelectionCallback = (_, _, _, _, _) => Certificate,
        RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.GetCertHashString() == Certificate.GetCertHashString(),
    };

    /// <summary>
    /// Whether a certificate presented by the other end is accepted: it chains to a trusted CA for
    /// <paramref name="usage"/>, it is not revoked, and it has the allowed CN when one is set.
    /// </summary>
    /// <param name="certificate">The presented certificate.</param>
    /// <param name="usage">The extended key usage it must allow (client or server authentication).</param>
    /// <returns>Whether to go on with the connection.</returns>
    public bool AcceptsPeer(X509Certificate2? certificate, Oid usage)
    {
        if (certificate is null || _authorities is null)
            return !_settings.ClientCertAuth && certificate is null;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities.Current);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(usage);
        if (!chain.Build(certificate))
            return false;
        if (_revoked?.Current is { } revoked && chain.ChainElements.Any(element => revoked.Revokes(element.Certificate)))
            return false;
        return HasAllowedCommonName(certificate);
    }

    /// <summary>
    /// Whether <paramref name="certificate"/> has the allowed CN, when one is set. Checked on the certificates of both
    /// ends, as etcd's: a member neither accepts nor dials a peer with another CN.
    /// </summary>
    private bool HasAllowedCommonName(X509Certificate2 certificate) =>
        _settings.AllowedCommonName is not { } allowed
        || string.Equals(certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false), allowed, StringComparison.Ordinal);

    private bool AcceptsServer(X509Certificate2? certificate, SslPolicyErrors errors)
    {
        if (_authorities is null)
            return _selfSigned is not null || errors == SslPolicyErrors.None;
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities.Current);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ServerAuth);
        return chain.Build(certificate) && (_revoked?.Current is not { } revoked || !chain.ChainElements.Any(e => revoked.Revokes(e.Certificate)))
            && HasAllowedCommonName(certificate);
    }

    private CipherSuitesPolicy? Policy() =>
        _settings.CipherSuites is { Count: > 0 } suites && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) ? CipherSuiteNames.Policy(suites) : null;
}
