using System.Diagnostics;
using System.Security.Cryptography;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Serve;
using Kvorum.Tests.Shared;
using AuthApi = Kvorum.Etcd.Api.Auth;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A real <c>kvorum serve</c> with JWT tokens (<c>KVORUM_AUTH_TOKEN=jwt,...</c>) beside a real etcd 3.4 with the same key
/// pair (RS256) or the same HMAC secret file (HS256): etcdctl logs in and works with the token; a token signed by either
/// server is accepted by the other; after an auth change both refuse an old token with the same error; unusable options
/// end <c>serve</c> with one line.
/// </summary>
public sealed class AuthJwtProcessTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kvorum-jwtproc-").FullName;

    [SkippableTheory]
    [InlineData("RS256")]
    [InlineData("HS256")]
    public async Task Etcdctl_works_with_jwt_tokens_and_kvorum_and_etcd_accept_each_others_tokens_until_an_auth_change(string method)
    {
        Etcdctl.Require();
        EtcdServerProcess.Require();
        string option;
        if (method == "HS256")
        {
            option = $"jwt,priv-key={WriteSecret("jwt", 32)},sign-method=HS256,ttl=10m";
        }
        else
        {
            var (privateKey, publicKey) = WriteRsaKeys("jwt");
            option = $"jwt,pub-key={publicKey},priv-key={privateKey},sign-method=RS256,ttl=10m";
        }
        await using var etcd = new EtcdServerProcess(FreePorts.Next, "--auth-token", option);
        var endpoint = $"http://127.0.0.1:{FreePorts.Next()}";
        using var member = Serve(endpoint, new Dictionary<string, string> { ["KVORUM_AUTH_TOKEN"] = option });
        try
        {
            foreach (var server in new[] { endpoint, etcd.ClientUrl })
                await SetUpUsersAsync(server);

            var read = await Etcdctl.RunAsync(endpoint, null, "--user", "alice:alicepw", "get", "k");
            Assert.True((read.Code, read.Out) == (0, "k\nv\n"), $"etcdctl get k as alice: {read.Code} {read.Out} {read.Err}");
            var write = await Etcdctl.RunAsync(endpoint, null, "--user", "alice:alicepw", "put", "k", "w");
            Assert.Equal((1, "Error: etcdserver: permission denied"), (write.Code, write.Err.Trim().Split('\n')[^1]));

            using var kvorumChannel = GrpcChannel.ForAddress(endpoint);
            using var etcdChannel = GrpcChannel.ForAddress(etcd.ClientUrl);
            var kvorumToken = await LoginAsync(kvorumChannel);
            var etcdToken = await LoginAsync(etcdChannel);
            Assert.Equal(3, kvorumToken.Split('.').Length);
            Assert.Equal(kvorumToken.Split('.')[0], etcdToken.Split('.')[0]);
            Assert.Equal("k", await ReadAsync(kvorumChannel, etcdToken));
            Assert.Equal("k", await ReadAsync(etcdChannel, kvorumToken));

            foreach (var server in new[] { endpoint, etcd.ClientUrl })
                await EtcdctlAsync(server, "--user", "root:rootpw", "role", "grant-permission", "reader", "read", "k2");
            foreach (var (channel, token) in new[] { (kvorumChannel, kvorumToken), (kvorumChannel, etcdToken), (etcdChannel, etcdToken) })
            {
                var e = await Assert.ThrowsAsync<RpcException>(() => ReadAsync(channel, token));
                Assert.Equal((StatusCode.InvalidArgument, "etcdserver: revision of auth store is old"), (e.StatusCode, e.Status.Detail));
            }
            Assert.Equal("k", await ReadAsync(kvorumChannel, await LoginAsync(kvorumChannel)));
        }
        finally
        {
            member.Kill(entireProcessTree: true);
            await member.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Unusable_jwt_options_end_serve_with_one_line_and_the_usage_exit_code()
    {
        var (privateKey, _) = WriteRsaKeys("rsa");
        var missing = Path.Combine(_root, "missing.pem");
        var shortSecret = WriteSecret("short", 31);
        foreach (var (option, expected) in new[]
        {
            ($"jwt,priv-key={privateKey},sign-method=RS255", "kvorum serve: --auth-token: unknown jwt sign-method \"RS255\""),
            ($"jwt,priv-key={missing},sign-method=RS256", $"kvorum serve: --auth-token: cannot read jwt priv-key {missing}"),
            ($"jwt,priv-key={privateKey},sign-method=ES256", $"kvorum serve: --auth-token: jwt priv-key {privateKey} is not an EC private key"),
            ("jwt,sign-method=HS256", "kvorum serve: --auth-token: jwt sign-method HS256 needs priv-key=PATH"),
            ($"jwt,priv-key={shortSecret},sign-method=HS256", $"kvorum serve: --auth-token: jwt sign-method HS256 needs a priv-key secret of at least 32 bytes, {shortSecret} has 31"),
        })
        {
            using var member = Serve($"http://127.0.0.1:{FreePorts.Next()}", new Dictionary<string, string>(), ServeFlags.AuthToken, option);
            Assert.True(member.WaitForExit(60_000), "serve did not exit");
            var err = (await member.StandardError.ReadToEndAsync()).Trim();
            Assert.Equal(2, member.ExitCode);
            Assert.DoesNotContain('\n', err);
            Assert.StartsWith(expected, err, StringComparison.Ordinal);
        }
    }

    /// <summary>The same auth changes on either server, so that both reach the same auth revision.</summary>
    private static async Task SetUpUsersAsync(string endpoint)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await Etcdctl.RunAsync(endpoint, null, "put", "k", "v")).Code != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"etcdctl put on {endpoint} did not succeed within 30 s");
            await Task.Delay(200);
        }
        foreach (var step in new[]
        {
            new[] { "user", "add", "root:rootpw" }, ["user", "grant-role", "root", "root"],
            ["role", "add", "reader"], ["role", "grant-permission", "reader", "read", "k"],
            ["user", "add", "alice:alicepw"], ["user", "grant-role", "alice", "reader"], ["auth", "enable"],
        })
        {
            await EtcdctlAsync(endpoint, step);
        }
    }

    private static async Task EtcdctlAsync(string endpoint, params string[] args)
    {
        var done = await Etcdctl.RunAsync(endpoint, null, args);
        Assert.True(done.Code == 0, $"etcdctl {string.Join(' ', args)} on {endpoint}: {done.Err}");
    }

    private static async Task<string> LoginAsync(GrpcChannel channel) =>
        (await new AuthApi.AuthClient(channel).AuthenticateAsync(new AuthenticateRequest { Name = "alice", Password = "alicepw" })).Token;

    private static async Task<string> ReadAsync(GrpcChannel channel, string token)
    {
        var range = await new KV.KVClient(channel).RangeAsync(
            new RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("k") }, new Metadata { { "token", token } });
        return range.Kvs.Single().Key.ToStringUtf8();
    }

    private (string Private, string Public) WriteRsaKeys(string name)
    {
        using var rsa = RSA.Create(2048);
        var (privateKey, publicKey) = (Path.Combine(_root, name + ".key"), Path.Combine(_root, name + ".pub"));
        // PKCS#1 and PKIX, the forms etcd's documentation makes with openssl.
        File.WriteAllText(privateKey, rsa.ExportRSAPrivateKeyPem());
        File.WriteAllText(publicKey, rsa.ExportSubjectPublicKeyInfoPem());
        return (privateKey, publicKey);
    }

    /// <summary>A file of <paramref name="bytes"/> random bytes: an HMAC secret, as etcd reads it.</summary>
    private string WriteSecret(string name, int bytes)
    {
        var path = Path.Combine(_root, name + ".secret");
        File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(bytes));
        return path;
    }

    private Process Serve(string clientUrl, IReadOnlyDictionary<string, string> environment, params string[] flags) =>
        LoneMemberProcess.Start(_root, clientUrl, [ServeFlags.BcryptCost, "4", .. flags], environment);

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
