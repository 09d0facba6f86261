using Google.Protobuf;
using Grpc.Core;
using Kvorum.Etcd.Api;
using AuthApi = Kvorum.Etcd.Api.Auth;

namespace Kvorum.Server.Tests.Security;

/// <summary>
/// Under <c>--client-cert-auth</c>, a call without a token is made as its certificate's CN, as etcd makes it; a token,
/// when given, wins over the certificate.
/// </summary>
public sealed class CertificateUserTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task Without_a_token_the_client_certificates_CN_is_the_user()
    {
        await using var tls = new TlsCluster(1);
        foreach (var n in tls.Cluster.Names.ToList())
            tls.Cluster.Options[n] = tls.Cluster.Options[n] with { BcryptCost = 4 };
        tls.Cluster.StartAll();
        using (await tls.ConnectAsync())
        {
        }
        var url = new Uri(tls.Cluster.ClientUrl("m1"));
        using var rootChannel = tls.Channel(url, tls.Certificates.Issue("root").Certificate);
        using var aliceChannel = tls.Channel(url, tls.Certificates.Issue("alice").Certificate);
        using var nobodyChannel = tls.Channel(url, tls.Client);

        var auth = new AuthApi.AuthClient(rootChannel);
        await auth.UserAddAsync(new AuthUserAddRequest { Name = "root", Password = "rootpw" });
        await auth.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "root", Role = "root" });
        await auth.RoleAddAsync(new AuthRoleAddRequest { Name = "reader" });
        await auth.RoleGrantPermissionAsync(new AuthRoleGrantPermissionRequest { Name = "reader", Perm = new Permission { Key = B("a") } });
        await auth.UserAddAsync(new AuthUserAddRequest { Name = "alice", Options = new UserAddOptions { NoPassword = true } });
        await auth.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "alice", Role = "reader" });
        await new KV.KVClient(rootChannel).PutAsync(new PutRequest { Key = B("a"), Value = B("1") });
        await auth.AuthEnableAsync(new AuthEnableRequest());

        // alice's certificate alone: she reads what her role allows, and nothing else.
        var alice = new KV.KVClient(aliceChannel);
        Assert.Equal("1", (await alice.RangeAsync(new RangeRequest { Key = B("a") })).Kvs[0].Value.ToStringUtf8());
        var write = await Assert.ThrowsAsync<RpcException>(async () => await alice.PutAsync(new PutRequest { Key = B("a"), Value = B("2") }));
        Assert.Equal((StatusCode.PermissionDenied, "etcdserver: permission denied"), (write.StatusCode, write.Status.Detail));
        var admin = await Assert.ThrowsAsync<RpcException>(async () => await new AuthApi.AuthClient(aliceChannel).UserListAsync(new AuthUserListRequest()));
        Assert.Equal("etcdserver: permission denied", admin.Status.Detail);

        // root's certificate alone makes root's calls.
        await new KV.KVClient(rootChannel).PutAsync(new PutRequest { Key = B("b"), Value = B("1") });
        Assert.Contains("alice", (await auth.UserListAsync(new AuthUserListRequest())).Users);

        // A CN that names no user may do nothing.
        var stranger = await Assert.ThrowsAsync<RpcException>(async () => await new KV.KVClient(nobodyChannel).RangeAsync(new RangeRequest { Key = B("a") }));
        Assert.Equal("etcdserver: permission denied", stranger.Status.Detail);

        // A token wins over the certificate: root's token on alice's connection writes.
        var token = (await auth.AuthenticateAsync(new AuthenticateRequest { Name = "root", Password = "rootpw" })).Token;
        await alice.PutAsync(new PutRequest { Key = B("a"), Value = B("3") }, new Metadata { { "token", token } });
        Assert.Equal("3", (await alice.RangeAsync(new RangeRequest { Key = B("a") })).Kvs[0].Value.ToStringUtf8());
    }
}
