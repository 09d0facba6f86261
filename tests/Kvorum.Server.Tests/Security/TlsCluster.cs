using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Kvorum.Server.Tests.Cluster;

namespace Kvorum.Server.Tests.Security;

/// <summary>
/// A <see cref="LocalCluster"/> whose members serve clients and peers over https with mutual TLS, each with a
/// certificate of <see cref="Certificates"/>' CA.
/// </summary>
internal sealed class TlsCluster : IAsyncDisposable
{
    public TlsCluster(int size)
    {
        Cluster = new LocalCluster(size);
        foreach (var name in Cluster.Names.ToList())
        {
            var o = Cluster.Options[name];
            var tls = Certificates.MutualTls(name);
            Cluster.Options[name] = o with
            {
                ListenClientUrls = [.. o.ListenClientUrls.Select(Https)],
                AdvertiseClientUrls = [.. o.AdvertiseClientUrls.Select(Https)],
                ListenPeerUrls = [.. o.ListenPeerUrls.Select(Https)],
                InitialAdvertisePeerUrls = [.. o.InitialAdvertisePeerUrls.Select(Https)],
                InitialCluster = o.InitialCluster.ToDictionary(e => e.Key, e => (IReadOnlyList<Uri>)[.. e.Value.Select(Https)]),
                ClientTls = tls,
                PeerTls = tls,
            };
        }
        Client = Certificates.Issue("client").Certificate;
    }

    public TestCertificates Certificates { get; } = new();

    public LocalCluster Cluster { get; }

    /// <summary>A certificate of the cluster's CA for clients.</summary>
    public X509Certificate2 Client { get; }

    public static Uri Https(Uri url) => new UriBuilder(url) { Scheme = Uri.UriSchemeHttps, Port = url.Port }.Uri;

    /// <summary>A gRPC channel to <paramref name="url"/> that trusts the CA and presents <paramref name="certificate"/>.</summary>
    public GrpcChannel Channel(Uri url, X509Certificate2? certificate) => GrpcChannel.ForAddress(url, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler { SslOptions = Certificates.ClientOptions(certificate) },
        DisposeHttpClient = true,
    });

    /// <summary>A dotnet-etcd client over TLS on every member, once a put through it succeeds.</summary>
    public async Task<dotnet_etcd.EtcdClient> ConnectAsync()
    {
        var endpoints = string.Join(",", Cluster.Names.Select(n => Cluster.ClientUrl(n)));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            // dotnet-etcd's own hook for TLS: its handler overrides a channel's SslOptions.
            var client = new dotnet_etcd.EtcdClient(endpoints, configureSslOptions: ssl =>
            {
                var options = Certificates.ClientOptions(Client);
                ssl.ClientCertificates = options.ClientCertificates;
                ssl.RemoteCertificateValidationCallback = options.RemoteCertificateValidationCallback;
            });
            try
            {
                await client.PutAsync("__ready", "1");
                return client;
            }
            catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline)
            {
                client.Dispose();
                await Task.Delay(200);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        Certificates.Dispose();
    }
}
