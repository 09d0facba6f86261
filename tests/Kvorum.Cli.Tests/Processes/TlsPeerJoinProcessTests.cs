using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Serve;
using Kvorum.Server.Security;
using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// Three real members whose peer ports take only certificates of their CA with the CN <see cref="PeerCn"/>
/// (<c>--peer-cert-allowed-cn</c>): a fourth added with <c>member add</c> but started with a certificate of another CA,
/// and then a fifth with a certificate of the right CA but another CN, never join: their streams to the others are
/// refused at the handshake, the leader's to them too, they copy nothing, their votes reach no one, and the others'
/// term, leader, history and writes are unaffected.
/// </summary>
public sealed class TlsPeerJoinProcessTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kvorum-tlsjoin-" + Guid.NewGuid().ToString("N"));
    private readonly ThrowawayCertificateAuthority _ca = ThrowawayCertificateAuthority.Create("peer CA");
    private readonly ThrowawayCertificateAuthority _strangerCa = ThrowawayCertificateAuthority.Create("stranger CA");
    private readonly List<Process> _processes = [];
    private readonly Dictionary<string, (int Client, int Peer)> _ports = [];
    private readonly string _token = "tlsjoin-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The one CN the members' peer ports accept.</summary>
    private const string PeerCn = "kvorum-peer";

    public TlsPeerJoinProcessTests()
    {
        Directory.CreateDirectory(_root);
        _ca.WriteRootPem(CaFile);
        foreach (var name in new[] { "m1", "m2", "m3", "m4", "m5" })
            _ports[name] = (FreePorts.Next(), FreePorts.Next());
    }

    private string CaFile => Path.Combine(_root, "ca.pem");

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task A_peer_with_another_CAs_certificate_or_another_CN_added_as_a_member_cannot_join_nor_disturb_the_cluster()
    {
        string[] members = ["m1", "m2", "m3"];
        foreach (var name in members)
            Start(name, _ca, members, join: false);
        using var m1 = GrpcChannel.ForAddress(ClientUrl("m1"));
        var kv = new KV.KVClient(m1);
        await PutAsync(kv, "before", 10);

        await StrangerCannotJoinAsync(m1, kv, "m4", _strangerCa, PeerCn, "during", ["m1", "m2", "m3", "m4"]);
        await StrangerCannotJoinAsync(m1, kv, "m5", _ca, "m5", "later", ["m1", "m2", "m3", "m4", "m5"]);
    }

    /// <summary>
    /// Adds <paramref name="stranger"/> as a voter and starts it with a certificate of <paramref name="by"/> with the CN
    /// <paramref name="cn"/>; checks that it joins nothing while 20 writes under <paramref name="writes"/> go on.
    /// </summary>
    private async Task StrangerCannotJoinAsync(GrpcChannel m1, KV.KVClient kv, string stranger, ThrowawayCertificateAuthority by, string cn, string writes, string[] initial)
    {
        string[] members = ["m1", "m2", "m3"];
        var added = await new Kvorum.Etcd.Api.Cluster.ClusterClient(m1).MemberAddAsync(new MemberAddRequest { PeerURLs = { PeerUrl(stranger).ToString() } });
        var before = await StatusAsync("m1");
        Start(stranger, by, initial, join: true, cn);

        // Writes go on (3 of 4 or 5 voters) while the stranger tries to reach the others.
        await PutAsync(kv, writes, 20, pause: TimeSpan.FromMilliseconds(150));
        // Until the stranger has tried every member (on a loaded machine its start can take longer than the writes).
        bool TriedAll(string log) => members.All(name => log.Contains($"at {PeerUrl(name)} failed", StringComparison.Ordinal));
        var tried = DateTime.UtcNow.AddSeconds(30);
        while (!TriedAll(File.ReadAllText(Path.Combine(_root, stranger + ".log"))) && DateTime.UtcNow < tried)
            await Task.Delay(100);

        Assert.Equal(0UL, (await StatusAsync(stranger)).Leader);
        var log = File.ReadAllText(Path.Combine(_root, stranger + ".log"));
        foreach (var name in members)
            Assert.True(log.Contains($"at {PeerUrl(name)} failed", StringComparison.Ordinal), $"{stranger} never tried {name}, so the test proves nothing:\n{Tail(stranger)}");
        using (var channel = GrpcChannel.ForAddress(ClientUrl(stranger)))
        {
            var copied = await new KV.KVClient(channel).RangeAsync(new RangeRequest { Key = B("before/"), RangeEnd = B("zzz"), Serializable = true, CountOnly = true });
            Assert.True(copied.Count == 0, $"{stranger} copied {copied.Count} keys");
        }
        foreach (var name in members)
        {
            var status = await StatusAsync(name);
            Assert.Equal((before.RaftTerm, before.Leader), (status.RaftTerm, status.Leader));
        }
        var list = await new Kvorum.Etcd.Api.Cluster.ClusterClient(m1).MemberListAsync(new MemberListRequest());
        Assert.Contains(list.Members, m => m.ID == added.Member.ID && m.Name.Length == 0);

        // Every acknowledged write is there, and the three members' histories are the same.
        var revision = (await kv.RangeAsync(new RangeRequest { Key = B($"{writes}/19") })).Header.Revision;
        Assert.Equal(20, (await kv.RangeAsync(new RangeRequest { Key = B($"{writes}/"), RangeEnd = B($"{writes}0"), CountOnly = true })).Count);
        Assert.Equal(10, (await kv.RangeAsync(new RangeRequest { Key = B("before/"), RangeEnd = B("before0"), CountOnly = true })).Count);
        await HashesAgreeAsync(members, revision);
    }

    private static async Task PutAsync(KV.KVClient kv, string prefix, int count, TimeSpan? pause = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        for (var i = 0; i < count; i++)
        {
            while (true)
            {
                try
                {
                    await kv.PutAsync(new PutRequest { Key = B($"{prefix}/{i}"), Value = B("v") }, deadline: DateTime.UtcNow.AddSeconds(5));
                    break;
                }
                catch (RpcException) when (i == 0 && prefix == "before" && DateTime.UtcNow < deadline)
                {
                    // The cluster is still electing its first leader.
                    await Task.Delay(200);
                }
            }
            if (pause is { } wait)
                await Task.Delay(wait);
        }
    }

    private async Task<StatusResponse> StatusAsync(string name)
    {
        using var channel = GrpcChannel.ForAddress(ClientUrl(name));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                return await new Maintenance.MaintenanceClient(channel).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private async Task HashesAgreeAsync(IEnumerable<string> members, long revision)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var hashes = new List<uint>();
            foreach (var name in members)
            {
                using var channel = GrpcChannel.ForAddress(ClientUrl(name));
                try
                {
                    hashes.Add((await new Maintenance.MaintenanceClient(channel).HashKVAsync(new HashKVRequest { Revision = revision }, deadline: DateTime.UtcNow.AddSeconds(5))).Hash);
                }
                catch (RpcException) when (DateTime.UtcNow < deadline)
                {
                    // A member still behind that revision.
                }
            }
            if (hashes.Count == 3 && hashes.Distinct().Count() == 1)
                return;
            Assert.True(DateTime.UtcNow < deadline, $"the members' hashes differ at revision {revision}: {string.Join(", ", hashes)}");
            await Task.Delay(200);
        }
    }

    private string Tail(string name) => string.Join('\n', File.ReadLines(Path.Combine(_root, name + ".log")).TakeLast(15));

    private string ClientUrl(string name) => $"http://127.0.0.1:{_ports[name].Client}";

    private Uri PeerUrl(string name) => new($"https://127.0.0.1:{_ports[name].Peer}");

    /// <summary>
    /// Starts a member with cleartext clients and mutual TLS on its peer port, accepting only <see cref="PeerCn"/>; its
    /// certificate issued by <paramref name="by"/> with the CN <paramref name="cn"/>.
    /// </summary>
    private void Start(string name, ThrowawayCertificateAuthority by, IEnumerable<string> initial, bool join, string cn = PeerCn)
    {
        using var certificate = by.Issue(cn);
        var cert = Path.Combine(_root, name + ".pem");
        var key = Path.Combine(_root, name + "-key.pem");
        ThrowawayCertificateAuthority.WritePem(certificate, cert, key);
        var serve = new ServeArguments
        {
            Name = name,
            DataDir = Path.Combine(_root, name),
            ListenClientUrls = [new Uri(ClientUrl(name))],
            AdvertiseClientUrls = [new Uri(ClientUrl(name))],
            ListenPeerUrls = [PeerUrl(name)],
            InitialAdvertisePeerUrls = [PeerUrl(name)],
            InitialCluster = [.. initial.Select(n => new InitialClusterMember(n, PeerUrl(n)))],
            InitialClusterToken = _token,
            JoinExistingCluster = join,
            ExtraFlags =
            [
                ServeFlags.PeerCertFile, cert, ServeFlags.PeerKeyFile, key, ServeFlags.PeerTrustedCaFile, CaFile,
                ServeFlags.PeerClientCertAuth, "true", ServeFlags.PeerCertAllowedCn, PeerCn,
                // Members are added at once and never connect: etcd's strict check would refuse the adds.
                ServeFlags.StrictReconfigCheck, "false",
            ],
        };
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kvorum.dll"));
        foreach (var a in serve.ToArgs())
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        var log = File.AppendText(Path.Combine(_root, name + ".log"));
        log.AutoFlush = true;
        process.OutputDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
        _ca.Dispose();
        _strangerCa.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
