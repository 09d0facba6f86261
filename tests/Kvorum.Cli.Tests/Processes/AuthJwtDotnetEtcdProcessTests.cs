using System.Security.Cryptography;
using dotnet_etcd;
using Etcdserverpb;
using Grpc.Core;
using Kvorum.Etcd.Serve;
using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// etcd's .NET client (dotnet-etcd) against a real <c>kvorum serve</c> with <c>--auth-token jwt,...</c>: it logs in,
/// puts and gets with the token within its role's permission, is refused a key outside it with etcd's error, and after
/// an auth change (its role revoked, then its password changed) its old token and old password are refused.
/// </summary>
public sealed class AuthJwtDotnetEtcdProcessTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kvorum-jwtnet-").FullName;

    [Fact]
    public async Task Dotnet_etcd_works_within_its_users_permissions_with_a_jwt_token_until_an_auth_change()
    {
        var key = Path.Combine(_root, "jwt.key");
        using (var rsa = RSA.Create(2048))
            File.WriteAllText(key, rsa.ExportRSAPrivateKeyPem());
        var endpoint = $"http://127.0.0.1:{FreePorts.Next()}";
        using var member = LoneMemberProcess.Start(
            _root, endpoint, [ServeFlags.BcryptCost, "4", ServeFlags.AuthToken, $"jwt,priv-key={key},sign-method=RS256,ttl=10m"]);
        try
        {
            using var client = new EtcdClient(endpoint);
            await UntilServingAsync(client);
            await client.UserAddAsync(new AuthUserAddRequest { Name = "root", Password = "rootpw" });
            await client.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "root", Role = "root" });
            await client.RoleAddAsync(new AuthRoleAddRequest { Name = "app" });
            await client.RoleGrantPermissionAsync(new AuthRoleGrantPermissionRequest
            {
                Name = "app",
                Perm = new Authpb.Permission { PermType = Authpb.Permission.Types.Type.Readwrite, Key = Bytes("app/"), RangeEnd = Bytes("app0") },
            });
            await client.UserAddAsync(new AuthUserAddRequest { Name = "alice", Password = "alicepw" });
            await client.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "alice", Role = "app" });
            await client.AuthEnableAsync(new AuthEnableRequest());

            var alice = await LoginAsync(client, "alice", "alicepw");
            Assert.Equal(3, alice.GetValue("token")!.Split('.').Length);
            await client.PutAsync("app/k", "v", alice);
            Assert.Equal("v", await client.GetValAsync("app/k", alice));
            await AssertRefusedAsync(() => client.PutAsync("other", "v", alice), StatusCode.PermissionDenied, "etcdserver: permission denied");
            await AssertRefusedAsync(() => client.GetValAsync("other", alice), StatusCode.PermissionDenied, "etcdserver: permission denied");

            var root = await LoginAsync(client, "root", "rootpw");
            await client.UserRevokeRoleAsync(new AuthUserRevokeRoleRequest { Name = "alice", Role = "app" }, root);
            await AssertRefusedAsync(() => client.GetValAsync("app/k", alice), StatusCode.InvalidArgument, "etcdserver: revision of auth store is old");
            var roleless = await LoginAsync(client, "alice", "alicepw");
            await AssertRefusedAsync(() => client.GetValAsync("app/k", roleless), StatusCode.PermissionDenied, "etcdserver: permission denied");

            root = await LoginAsync(client, "root", "rootpw");
            await client.UserChangePasswordAsync(new AuthUserChangePasswordRequest { Name = "alice", Password = "newpw" }, root);
            await AssertRefusedAsync(() => client.GetValAsync("app/k", roleless), StatusCode.InvalidArgument, "etcdserver: revision of auth store is old");
            await AssertRefusedAsync(() => LoginAsync(client, "alice", "alicepw"), StatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password");
            await client.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "alice", Role = "app" }, root);
            Assert.Equal("v", await client.GetValAsync("app/k", await LoginAsync(client, "alice", "newpw")));
        }
        finally
        {
            member.Kill(entireProcessTree: true);
            await member.WaitForExitAsync();
        }
    }

    private static async Task UntilServingAsync(EtcdClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await client.PutAsync("ready", "1");
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private static async Task<Metadata> LoginAsync(EtcdClient client, string name, string password)
    {
        var token = (await client.AuthenticateAsync(new AuthenticateRequest { Name = name, Password = password })).Token;
        return new Metadata { { "token", token } };
    }

    private static async Task AssertRefusedAsync(Func<Task> call, StatusCode code, string detail)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal((code, detail), (e.StatusCode, e.Status.Detail));
    }

    private static Google.Protobuf.ByteString Bytes(string text) => Google.Protobuf.ByteString.CopyFromUtf8(text);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
