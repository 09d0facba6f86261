using System.Security.Cryptography.X509Certificates;
using Grpc.Core;

namespace Kvorum.Server.Auth;

/// <summary>
/// etcd's rule for clients known by their certificate alone: with <c>--client-cert-auth</c> on, a call on a client port
/// that carries no token is made as the user named by the CN of the certificate it presented (Kestrel has already
/// checked that certificate against the trusted CAs and the revocation list). A call that carries a token is always
/// its token's, as in etcd. The member's own Lock and Election client is marked (<see cref="LoopbackMark"/>) and never
/// takes the member certificate's CN as a user, as etcd ignores the CN of its gRPC gateway's certificate.
/// </summary>
internal sealed class CertificateUser
{
    private static readonly string CommonNameOid = "2.5.4.3";

    private readonly HashSet<int> _clientPorts;
    private readonly bool _enabled;

    /// <summary>Reads the member's client ports and whether client certificates are required.</summary>
    /// <param name="options">The member's options.</param>
    public CertificateUser(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _enabled = options.ClientTls.Enabled && options.ClientTls.ClientCertAuth;
        _clientPorts = options.ListenClientUrls.Select(url => url.Port).ToHashSet();
    }

    /// <summary>
    /// The user a call without a token is made as: its certificate's CN ("" when the subject has none, which no user
    /// can have), or null when the call has no say by certificate (client-cert auth off, a peer port, the loopback).
    /// </summary>
    public string? NameOf(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_enabled || context.RequestHeaders.Get(LoopbackMark.Header) is not null)
            return null;
        var connection = context.GetHttpContext().Connection;
        if (!_clientPorts.Contains(connection.LocalPort))
            return null;
        return connection.ClientCertificate is { } certificate ? CommonName(certificate) : null;
    }

    /// <summary>
    /// The subject's CN as Go's <c>pkix.Name.CommonName</c> reads it: the last CN attribute, or "" without one.
    /// </summary>
    public static string CommonName(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var name = "";
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == CommonNameOid)
                name = rdn.GetSingleElementValue() ?? "";
        }
        return name;
    }
}
