using Kvorum.Etcd.Serve;
using Kvorum.Server.Security;

namespace Kvorum.Cli.Serve;

/// <summary>
/// Binds the transport-security flags of <c>kvorum serve</c> (<c>--cert-file</c> …, <c>--peer-cert-file</c> …) into the
/// client and peer <see cref="TlsSettings"/>, and checks that they agree with the URLs. The files themselves are read
/// when the member starts (<see cref="ServerTls"/>).
/// </summary>
internal static class TlsOptionsBinder
{
    /// <summary>Binds and checks.</summary>
    /// <param name="raw">A flag's value, from the command line or its <c>KVORUM_*</c> variable, or null.</param>
    /// <param name="clientUrls">The listen and advertised client URLs, and the metrics URLs.</param>
    /// <param name="peerUrls">The listen and advertised peer URLs.</param>
    /// <returns>The client side and the peer side.</returns>
    /// <exception cref="UsageException">A value is malformed, or an https URL has no certificate.</exception>
    public static (TlsSettings Client, TlsSettings Peer) Bind(Func<string, string?> raw, IEnumerable<Uri> clientUrls, IEnumerable<Uri> peerUrls)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var suites = CipherSuites(raw(ServeFlags.CipherSuites));
        var client = Side(raw, ServeFlags.CertFile, ServeFlags.KeyFile, ServeFlags.TrustedCaFile, ServeFlags.ClientCertAuth, ServeFlags.AutoTls, ServeFlags.ClientCrlFile);
        client = client with { CipherSuites = suites };
        var peer = Side(raw, ServeFlags.PeerCertFile, ServeFlags.PeerKeyFile, ServeFlags.PeerTrustedCaFile, ServeFlags.PeerClientCertAuth, ServeFlags.PeerAutoTls, ServeFlags.PeerCrlFile);
        peer = peer with { CipherSuites = suites, AllowedCommonName = raw(ServeFlags.PeerCertAllowedCn) };
        if (!client.Enabled && clientUrls.FirstOrDefault(url => url.Scheme == Uri.UriSchemeHttps) is { } clientUrl)
            throw new UsageException($"{clientUrl.GetLeftPart(UriPartial.Authority)} is https: give {ServeFlags.CertFile} and {ServeFlags.KeyFile}, or {ServeFlags.AutoTls}");
        if (!peer.Enabled && peerUrls.FirstOrDefault(url => url.Scheme == Uri.UriSchemeHttps) is { } peerUrl)
            throw new UsageException($"{peerUrl.GetLeftPart(UriPartial.Authority)} is https: give {ServeFlags.PeerCertFile} and {ServeFlags.PeerKeyFile}, or {ServeFlags.PeerAutoTls}");
        return (client, peer);
    }

    private static TlsSettings Side(Func<string, string?> raw, string certFlag, string keyFlag, string caFlag, string authFlag, string autoFlag, string crlFlag)
    {
        var cert = raw(certFlag);
        var key = raw(keyFlag);
        if ((cert is null) != (key is null))
            throw new UsageException(cert is null ? $"{keyFlag} needs {certFlag}" : $"{certFlag} needs {keyFlag}");
        var ca = raw(caFlag);
        var auth = Bool(authFlag, raw(authFlag));
        if (auth && ca is null)
            throw new UsageException($"{authFlag} needs {caFlag}: the CA that signs the certificates to accept");
        return new TlsSettings
        {
            CertFile = cert,
            KeyFile = key,
            TrustedCaFile = ca,
            ClientCertAuth = auth,
            AutoTls = Bool(autoFlag, raw(autoFlag)),
            CrlFile = raw(crlFlag),
        };
    }

    private static IReadOnlyList<System.Net.Security.TlsCipherSuite>? CipherSuites(string? text)
    {
        if (text is null)
            return null;
        if (!CipherSuiteNames.TryParse(text, out var suites, out var unknown))
            throw new UsageException($"{ServeFlags.CipherSuites}: unknown cipher suite \"{unknown}\"");
        return suites;
    }

    private static bool Bool(string flag, string? text) => text?.Trim().ToUpperInvariant() switch
    {
        null => false,
        "TRUE" or "1" => true,
        "FALSE" or "0" => false,
        _ => throw new UsageException($"{flag} must be true or false, got \"{text}\""),
    };
}
