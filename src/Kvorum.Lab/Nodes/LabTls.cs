using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Kvorum.Etcd.Serve;
using Kvorum.Lab.Topology;
using Kvorum.Server.Security;

namespace Kvorum.Lab.Nodes;

/// <summary>
/// <c>kvorum lab up --tls</c>: a throwaway CA and certificates in <c>&lt;lab&gt;/tls</c>, made with the same CA code as
/// <c>cluster up --tls</c> (each member's names its address, so clients and peers check it), and the members run
/// with https URLs and mutual TLS on the client and peer ports; the lab's own client presents the <c>root</c> client
/// certificate. The metrics listener stays cleartext.
/// </summary>
/// <param name="Directory">Where the PEM files are.</param>
internal sealed record LabTls(string Directory)
{
    /// <summary>The CA certificate, for <c>--cacert</c> and <c>--trusted-ca-file</c>.</summary>
    public string CaFile => Path.Combine(Directory, "ca.pem");

    /// <summary>The client certificate (CN <c>root</c>), for <c>--cert</c>.</summary>
    public string ClientCertFile => Path.Combine(Directory, "client.pem");

    /// <summary>Its key, for <c>--key</c>.</summary>
    public string ClientKeyFile => Path.Combine(Directory, "client-key.pem");

    /// <summary>The files of the lab in <paramref name="labDirectory"/>.</summary>
    /// <param name="labDirectory">The lab directory.</param>
    public static LabTls In(string labDirectory) => new(Path.Combine(labDirectory, "tls"));

    /// <summary>Makes a new CA and the certificates of every node of <paramref name="layout"/> and of the client.</summary>
    /// <param name="layout">The lab.</param>
    /// <returns>Where they are.</returns>
    public static LabTls Create(LabLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var tls = In(layout.Directory);
        ThrowawayCertificateAuthority.WriteClusterFiles(tls.Directory, "kvorum lab CA", layout.Nodes.Select(n => (n.Name, (IEnumerable<string>?)[n.Address.ToString(), "127.0.0.1"])));
        return tls;
    }

    /// <summary>A node's certificate.</summary>
    public string CertFile(NodeLayout node) => Path.Combine(Directory, $"{node?.Name}.pem");

    /// <summary>A node's key.</summary>
    public string KeyFile(NodeLayout node) => Path.Combine(Directory, $"{node?.Name}-key.pem");

    /// <summary><paramref name="serve"/> with https client and peer URLs and mutual TLS on both ports.</summary>
    /// <param name="serve">The node's cleartext arguments.</param>
    /// <param name="node">The node.</param>
    /// <returns>The secured arguments.</returns>
    public ServeArguments Secure(ServeArguments serve, NodeLayout node)
    {
        ArgumentNullException.ThrowIfNull(serve);
        return serve.WithMutualTls(CertFile(node), KeyFile(node), CaFile);
    }

    /// <summary>
    /// The lab client's TLS: it presents the client certificate and accepts only a server certificate that chains to
    /// the lab's CA and names the address dialled.
    /// </summary>
    /// <returns>Fresh options.</returns>
    public SslClientAuthenticationOptions ClientOptions()
    {
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(CaFile);
        var client = X509Certificate2.CreateFromPemFile(ClientCertFile, ClientKeyFile);
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(authorities);
        return new SslClientAuthenticationOptions { ClientCertificates = [client], CertificateChainPolicy = policy };
    }

}
