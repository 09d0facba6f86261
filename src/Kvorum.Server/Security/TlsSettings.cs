using System.Net.Security;

namespace Kvorum.Server.Security;

/// <summary>
/// The TLS settings of one side of a member, its client port or its peer port, as etcd's flags give them
/// (<c>--cert-file</c> … for clients, <c>--peer-cert-file</c> … for peers). With neither a certificate nor auto TLS,
/// that side speaks cleartext.
/// </summary>
internal sealed record TlsSettings
{
    /// <summary>No TLS.</summary>
    public static TlsSettings None { get; } = new();

    /// <summary>The certificate (PEM) the member presents (<c>--cert-file</c>, <c>--peer-cert-file</c>).</summary>
    public string? CertFile { get; init; }

    /// <summary>Its private key (PEM) (<c>--key-file</c>, <c>--peer-key-file</c>).</summary>
    public string? KeyFile { get; init; }

    /// <summary>
    /// CA certificates (PEM) that sign the certificates the member accepts from the other side (<c>--trusted-ca-file</c>,
    /// <c>--peer-trusted-ca-file</c>); on the peer side also what a peer's server certificate must chain to.
    /// </summary>
    public string? TrustedCaFile { get; init; }

    /// <summary>Whether a connection must present a certificate signed by <see cref="TrustedCaFile"/> (<c>--client-cert-auth</c>, <c>--peer-client-cert-auth</c>).</summary>
    public bool ClientCertAuth { get; init; }

    /// <summary>
    /// A self-signed certificate made at start when <see cref="CertFile"/> is not given (<c>--auto-tls</c>,
    /// <c>--peer-auto-tls</c>): traffic is encrypted, but nobody is authenticated by it.
    /// </summary>
    public bool AutoTls { get; init; }

    /// <summary>A certificate revocation list (DER or PEM); certificates it lists are refused (<c>--client-crl-file</c>, <c>--peer-crl-file</c>).</summary>
    public string? CrlFile { get; init; }

    /// <summary>The only CN a peer's certificate may carry (<c>--peer-cert-allowed-cn</c>); null for any.</summary>
    public string? AllowedCommonName { get; init; }

    /// <summary>The cipher suites offered (<c>--cipher-suites</c>); null for the platform's defaults.</summary>
    public IReadOnlyList<TlsCipherSuite>? CipherSuites { get; init; }

    /// <summary>Whether this side speaks TLS at all.</summary>
    public bool Enabled => CertFile is not null || AutoTls;
}
