using Kvorum.Cli.Client;
using Kvorum.Etcd.Serve;
using Kvorum.Server.Security;

namespace Kvorum.Cli.Cluster;

/// <summary>
/// <c>kvorum cluster up --tls</c>: a throwaway CA and certificates in <c>&lt;data&gt;/tls</c> (made on the first run with
/// the .NET certificate APIs, kept for the next ones), and the members run with https URLs and mutual TLS on both
/// ports, as a secured etcd cluster would.
/// </summary>
/// <param name="Directory">Where the PEM files are.</param>
internal sealed record ClusterTls(string Directory)
{
    /// <summary>The CA certificate, for <c>--cacert</c> and <c>--trusted-ca-file</c>.</summary>
    public string CaFile => Path.Combine(Directory, "ca.pem");

    /// <summary>A client certificate (CN <c>root</c>), for <c>--cert</c>.</summary>
    public string ClientCertFile => Path.Combine(Directory, "client.pem");

    /// <summary>Its key, for <c>--key</c>.</summary>
    public string ClientKeyFile => Path.Combine(Directory, "client-key.pem");

    /// <summary>Makes the certificates unless <paramref name="dataRoot"/> already has them.</summary>
    /// <param name="dataRoot">The cluster's data directory.</param>
    /// <param name="members">The members, each of which gets a certificate named after it.</param>
    /// <returns>Where they are.</returns>
    public static ClusterTls Prepare(string dataRoot, IReadOnlyList<LocalMember> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var tls = new ClusterTls(Path.Combine(dataRoot, "tls"));
        System.IO.Directory.CreateDirectory(tls.Directory);
        if (File.Exists(tls.CaFile) && members.All(m => File.Exists(tls.CertFile(m))) && File.Exists(tls.ClientCertFile))
            return tls;
        ThrowawayCertificateAuthority.WriteClusterFiles(tls.Directory, "kvorum cluster up CA", members.Select(m => (m.Name, (IEnumerable<string>?)null)));
        return tls;
    }

    /// <summary>A member's certificate.</summary>
    /// <param name="member">The member.</param>
    public string CertFile(LocalMember member) => Path.Combine(Directory, $"{member?.Name}.pem");

    /// <summary>A member's key.</summary>
    /// <param name="member">The member.</param>
    public string KeyFile(LocalMember member) => Path.Combine(Directory, $"{member?.Name}-key.pem");

    /// <summary><paramref name="serve"/> with https URLs and mutual TLS on both ports.</summary>
    /// <param name="serve">The member's cleartext arguments.</param>
    /// <param name="member">The member.</param>
    /// <returns>The secured arguments.</returns>
    public ServeArguments Secure(ServeArguments serve, LocalMember member)
    {
        ArgumentNullException.ThrowIfNull(serve);
        return serve.WithMutualTls(CertFile(member), KeyFile(member), CaFile);
    }

    /// <summary>The TLS of <c>cluster up</c>'s own status calls: the client certificate and the CA.</summary>
    /// <returns>The client TLS.</returns>
    public ClientTls Client() => ClientTls.Create(CaFile, ClientCertFile, ClientKeyFile, skipVerify: false)!;

}
