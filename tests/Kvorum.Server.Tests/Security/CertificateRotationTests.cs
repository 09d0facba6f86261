using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Kvorum.Server.Security;
using Kvorum.Server.Tests.Cluster;

namespace Kvorum.Server.Tests.Security;

/// <summary>Certificates replaced on disk are served from the next handshake on, without a restart.</summary>
public sealed class CertificateRotationTests : IAsyncLifetime
{
    private readonly LocalCluster _cluster = new(1);
    private readonly TestCertificates _certificates = new();
    private string _cert = "";
    private string _key = "";

    public Task InitializeAsync()
    {
        (_cert, _key, _) = _certificates.Issue("m1");
        var o = _cluster.Options["m1"];
        _cluster.Options["m1"] = o with
        {
            ListenClientUrls = [.. o.ListenClientUrls.Select(TlsCluster.Https)],
            AdvertiseClientUrls = [.. o.AdvertiseClientUrls.Select(TlsCluster.Https)],
            ClientTls = new TlsSettings { CertFile = _cert, KeyFile = _key },
        };
        _cluster.StartAll();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _certificates.Dispose();
    }

    [Fact]
    public async Task A_certificate_replaced_on_disk_is_presented_from_the_next_connection_on()
    {
        var before = await PresentedAsync();
        Assert.Equal(X509CertificateLoader.LoadCertificate(File.ReadAllBytes(_cert)).Thumbprint, before);

        // Key first, then certificate, as a careless rotation would: in between, the old pair stays in use.
        using var next = _certificates.Authority.Issue("m1");
        var staging = Path.Combine(_certificates.Root, "staging");
        Directory.CreateDirectory(staging);
        ThrowawayCertificateAuthority.WritePem(next, Path.Combine(staging, "c.pem"), Path.Combine(staging, "k.pem"));
        File.Copy(Path.Combine(staging, "k.pem"), _key, overwrite: true);
        Assert.Equal(before, await PresentedAsync());
        File.Copy(Path.Combine(staging, "c.pem"), _cert, overwrite: true);

        Assert.Equal(next.Thumbprint, await PresentedAsync());
    }

    /// <summary>The thumbprint of the certificate the client port presents to a new connection.</summary>
    private async Task<string> PresentedAsync()
    {
        var url = new Uri(_cluster.ClientUrl("m1"));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(url.Host, url.Port);
                using var tls = new SslStream(tcp.GetStream());
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = url.Host,
                    ApplicationProtocols = [SslApplicationProtocol.Http2],
                    // Which certificate is presented is the question here, not whether it is trusted.
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
                });
                return new X509Certificate2(tls.RemoteCertificate!).Thumbprint;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
