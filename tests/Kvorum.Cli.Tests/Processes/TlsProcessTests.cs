using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Cli.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Api.V3Election;
using Kvorum.Etcd.Serve;
using LockApi = Kvorum.Etcd.Api.V3Lock;
using Kvorum.Server.Security;
using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A real <c>kvorum serve</c> with client certificates required: etcdctl and the kvorum client work over mutual TLS
/// with etcdctl's flags; no certificate, another CA's, or a revoked one is refused; with authentication on, a
/// certificate's CN is its user when no token is given, for the Lock and Election services too, and <c>kvorum bench</c>
/// runs over mutual TLS as a user; unusable files are one line.
/// </summary>
public sealed class TlsProcessTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kvorum-tlsproc-" + Guid.NewGuid().ToString("N"));
    private readonly ThrowawayCertificateAuthority _ca = ThrowawayCertificateAuthority.Create("process test CA");

    public TlsProcessTests() => Directory.CreateDirectory(_root);

    [SkippableFact]
    public async Task Etcdctl_and_kvorum_work_over_mutual_TLS_no_other_or_revoked_certificate_or_none_is_let_in_and_a_certificate_names_its_user()
    {
        Etcdctl.Require();
        var ca = Path.Combine(_root, "ca.pem");
        _ca.WriteRootPem(ca);
        var (memberCert, memberKey) = Write("m1", _ca);
        var (clientCert, clientKey) = Write("client", _ca);
        using var otherCa = ThrowawayCertificateAuthority.Create("another CA");
        var (otherCert, otherKey) = Write("other", otherCa);
        using var revoked = _ca.Issue("revoked");
        ThrowawayCertificateAuthority.WritePem(revoked, Path.Combine(_root, "revoked.pem"), Path.Combine(_root, "revoked-key.pem"));
        var crl = Path.Combine(_root, "crl.der");
        File.WriteAllBytes(crl, _ca.RevocationList([revoked]));

        var endpoint = $"https://127.0.0.1:{FreePorts.Next()}";
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        string[] flags =
        [
            ServeFlags.CertFile, memberCert, ServeFlags.KeyFile, memberKey, ServeFlags.TrustedCaFile, ca,
            ServeFlags.ClientCertAuth, "true", ServeFlags.ClientCrlFile, crl, ServeFlags.BcryptCost, "4",
        ];
        using var member = LoneMemberProcess.Start(_root, endpoint, flags, log: log);
        try
        {
            await RefusalsAsync(endpoint, ca, clientCert, clientKey, otherCert, otherKey);
            await UsersAsync(endpoint, ["--cacert", ca, "--cert", clientCert, "--key", clientKey]);
        }
        finally
        {
            member.Kill(entireProcessTree: true);
            await member.WaitForExitAsync();
        }
        // No secret in the member's log after a whole TLS and auth run: not the passwords, not its private key.
        var text = string.Join('\n', log);
        Assert.NotEmpty(log);
        var keyLine = File.ReadAllLines(memberKey).First(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal));
        foreach (var secret in new[] { "rootpw", "clientpw", keyLine })
            Assert.False(text.Contains(secret, StringComparison.Ordinal), $"the member's log holds a secret ({secret[..2]}…)");
    }

    private async Task RefusalsAsync(string endpoint, string ca, string clientCert, string clientKey, string otherCert, string otherKey)
    {
        string[] good = ["--cacert", ca, "--cert", clientCert, "--key", clientKey];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await Etcdctl.RunAsync(endpoint, null, [.. good, "put", "k", "v"])).Code != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "etcdctl put over mutual TLS did not succeed within 30 s");
            await Task.Delay(200);
        }
        var get = await Etcdctl.RunAsync(endpoint, null, [.. good, "get", "k"]);
        Assert.True((get.Code, get.Out) == (0, "k\nv\n"), $"etcdctl get k: {get.Code} {get.Out} {get.Err}");
        var kvorum = await CliProcess.RunAsync("kvorum", endpoint, [.. good, "get", "k"]);
        Assert.True((kvorum.Code, kvorum.Out) == (0, "k\nv\n"), $"kvorum get k: {kvorum.Code} {kvorum.Out} {kvorum.Err}");

        // The refused clients change nothing and each waits out its dial timeout: they try at once.
        var refused = await Task.WhenAll(
            Etcdctl.RunAsync(endpoint, null, "--cacert", ca, "--dial-timeout=2s", "get", "k"),
            Etcdctl.RunAsync(endpoint, null, "--cacert", ca, "--cert", otherCert, "--key", otherKey, "--dial-timeout=2s", "get", "k"),
            Etcdctl.RunAsync(endpoint, null, "--cacert", ca, "--cert", Path.Combine(_root, "revoked.pem"), "--key", Path.Combine(_root, "revoked-key.pem"), "--dial-timeout=2s", "get", "k"),
            CliProcess.RunAsync("kvorum", endpoint, "--cacert", ca, "--cert", otherCert, "--key", otherKey, "get", "k"));
        string[] who = ["etcdctl without a certificate", "etcdctl with another CA's certificate", "etcdctl with a revoked certificate", "kvorum with another CA's certificate"];
        Assert.All(who.Zip(refused), r => Assert.True(r.Second.Code != 0, $"{r.First} was let in: {r.Second.Out}"));
    }

    /// <summary>
    /// With authentication on: etcdctl with the "client" certificate and no user is the user "client", as on etcd;
    /// <c>kvorum bench</c> puts over mutual TLS as root with <c>--user</c>, and as "client" (read-only) is refused.
    /// </summary>
    private static async Task UsersAsync(string endpoint, string[] tls)
    {
        foreach (var step in new[]
        {
            new[] { "user", "add", "root:rootpw" }, ["user", "grant-role", "root", "root"],
            ["role", "add", "reader"], ["role", "grant-permission", "reader", "read", "k"],
            ["user", "add", "client:clientpw"], ["user", "grant-role", "client", "reader"], ["auth", "enable"],
        })
        {
            var done = await Etcdctl.RunAsync(endpoint, null, [.. tls, .. step]);
            Assert.True(done.Code == 0, $"etcdctl {string.Join(' ', step)}: {done.Err}");
        }

        var read = await Etcdctl.RunAsync(endpoint, null, [.. tls, "get", "k"]);
        Assert.True((read.Code, read.Out) == (0, "k\nv\n"), $"etcdctl get k as the certificate's user: {read.Code} {read.Out} {read.Err}");
        var write = await Etcdctl.RunAsync(endpoint, null, [.. tls, "put", "k", "w"]);
        // etcdctl's client logs its retries before the error line.
        Assert.Equal((1, "Error: etcdserver: permission denied"), (write.Code, write.Err.Trim().Split('\n')[^1]));

        // A loaded machine may take seconds over the first calls (TLS handshakes, the login): what is checked here is who
        // may write, not how fast, so the bench's requests get longer than the default 5 s.
        var bench = await CliProcess.RunAsync("kvorum", endpoint, [.. tls, "--user", "root:rootpw", "--command-timeout", "30s", "-w", "json", "bench", "put", "--clients", "4", "--total", "40"]);
        Assert.True(bench.Code == 0, bench.Err);
        Assert.Contains("\"succeeded\":40", bench.Out.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        var refused = await CliProcess.RunAsync("kvorum", endpoint, [.. tls, "--command-timeout", "30s", "bench", "put", "--total", "5"]);
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("PermissionDenied", refused.Out + refused.Err, StringComparison.Ordinal);

        await LockAndElectionAsync(endpoint, tls);
    }

    /// <summary>
    /// The Lock and Election services, called without a token over mutual TLS, work as the certificate's user ("client"):
    /// refused while it has no permission on their keys, granted once it has (etcdctl's own lock and elect commands are
    /// client-side recipes, so the services are called directly).
    /// </summary>
    private static async Task LockAndElectionAsync(string endpoint, string[] tls)
    {
        var settings = ClientTls.Create(tls[1], tls[3], tls[5], skipVerify: false)!;
        using var channel = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { SslOptions = settings.Options() },
        });
        var locks = new LockApi.Lock.LockClient(channel);
        var elections = new Election.ElectionClient(channel);
        var name = ByteString.CopyFromUtf8("L");
        var lease = (await new Lease.LeaseClient(channel).LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 })).ID;

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await locks.LockAsync(new LockApi.LockRequest { Name = name, Lease = lease }));
        Assert.Equal("etcdserver: permission denied", refused.Status.Detail);
        var notElected = await Assert.ThrowsAsync<RpcException>(async () => await elections.CampaignAsync(new CampaignRequest { Name = name, Lease = lease, Value = ByteString.CopyFromUtf8("p1") }));
        Assert.Equal("etcdserver: permission denied", notElected.Status.Detail);

        foreach (var step in new[]
        {
            new[] { "role", "add", "locker" }, ["role", "grant-permission", "locker", "readwrite", "L", "--prefix"],
            ["user", "grant-role", "client", "locker"],
        })
        {
            var done = await Etcdctl.RunAsync(endpoint, null, [.. tls, "--user", "root:rootpw", .. step]);
            Assert.True(done.Code == 0, $"etcdctl {string.Join(' ', step)}: {done.Err}");
        }
        var held = await locks.LockAsync(new LockApi.LockRequest { Name = name, Lease = lease });
        Assert.StartsWith("L/", held.Key.ToStringUtf8(), StringComparison.Ordinal);
        await locks.UnlockAsync(new LockApi.UnlockRequest { Key = held.Key });
        var elected = await elections.CampaignAsync(new CampaignRequest { Name = name, Lease = lease, Value = ByteString.CopyFromUtf8("p1") });
        Assert.Equal("p1", (await elections.LeaderAsync(new LeaderRequest { Name = name })).Kv.Value.ToStringUtf8());
        await elections.ResignAsync(new ResignRequest { Leader = elected.Leader });
    }

    [Fact]
    public async Task A_key_that_does_not_match_its_certificate_or_an_expired_certificate_is_one_line_and_exit_code_1()
    {
        var (cert, _) = Write("m1", _ca);
        var (_, otherKey) = Write("m2", _ca);
        using var oldCa = ThrowawayCertificateAuthority.Create("old CA", notBefore: DateTimeOffset.UtcNow.AddDays(-30));
        using var expired = oldCa.Issue("old", notBefore: DateTimeOffset.UtcNow.AddDays(-10), notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        ThrowawayCertificateAuthority.WritePem(expired, Path.Combine(_root, "old.pem"), Path.Combine(_root, "old-key.pem"));

        foreach (var (flags, expected) in new (string[] Flags, string Line)[]
        {
            ([ServeFlags.CertFile, cert, ServeFlags.KeyFile, otherKey], $"kvorum serve: the private key in {otherKey} does not match the certificate in {cert}"),
            ([ServeFlags.CertFile, Path.Combine(_root, "old.pem"), ServeFlags.KeyFile, Path.Combine(_root, "old-key.pem")], $"kvorum serve: the certificate in {Path.Combine(_root, "old.pem")} expired on"),
            ([ServeFlags.CertFile, Path.Combine(_root, "missing.pem"), ServeFlags.KeyFile, otherKey], $"kvorum serve: cannot read certificate file {Path.Combine(_root, "missing.pem")}"),
        })
        {
            using var member = Serve($"https://127.0.0.1:{FreePorts.Next()}", flags);
            Assert.True(member.WaitForExit(60_000), "serve did not exit");
            var err = (await member.StandardError.ReadToEndAsync()).Trim();
            Assert.Equal(1, member.ExitCode);
            Assert.DoesNotContain('\n', err);
            Assert.StartsWith(expected, err, StringComparison.Ordinal);
        }
    }

    private (string Cert, string Key) Write(string name, ThrowawayCertificateAuthority by)
    {
        using var certificate = by.Issue(name);
        var cert = Path.Combine(_root, name + ".pem");
        var key = Path.Combine(_root, name + "-key.pem");
        ThrowawayCertificateAuthority.WritePem(certificate, cert, key);
        return (cert, key);
    }

    private Process Serve(string clientUrl, params string[] flags) => LoneMemberProcess.Start(_root, clientUrl, flags);

    public void Dispose()
    {
        _ca.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
