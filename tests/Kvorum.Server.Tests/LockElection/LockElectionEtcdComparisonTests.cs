using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Api.V3Election;
using Kvorum.Etcd.Api.V3Lock;
using Kvorum.Server.Tests.Cluster;
using Kvorum.Tests.Shared;
using EtcdLease = Kvorum.Etcd.Api.Lease;

namespace Kvorum.Server.Tests.LockElection;

/// <summary>
/// The same Lock and Election calls against a real etcd and a one-member Kvorum: the transcripts (answers' keys and
/// revisions, errors' status and text, lease ids replaced by names) must be equal.
/// </summary>
public sealed class LockElectionEtcdComparisonTests
{
    [SkippableFact]
    public async Task Lock_and_election_calls_answer_as_etcd_does()
    {
        EtcdServerProcess.Require();
        await using var etcd = new EtcdServerProcess(FreePorts.Next);
        await using var cluster = new LocalCluster(1);
        cluster.StartAll();
        using (await cluster.ConnectAsync())
        {
        }
        using var etcdChannel = GrpcChannel.ForAddress(etcd.ClientUrl);
        using var kvorumChannel = GrpcChannel.ForAddress(cluster.ClientUrl("m1"));
        var expected = await TranscriptAsync(etcdChannel);
        var actual = await TranscriptAsync(kvorumChannel);
        Assert.Equal(expected, actual);
    }

    /// <summary>Runs the scenario; each line says what a call answered, revisions relative to the scenario's start.</summary>
    private static async Task<List<string>> TranscriptAsync(GrpcChannel channel)
    {
        var kv = new KV.KVClient(channel);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                await kv.PutAsync(new PutRequest { Key = B("__start"), Value = B("1") }, deadline: DateTime.UtcNow.AddSeconds(2));
                break;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
        var start = (await kv.RangeAsync(new RangeRequest { Key = B("__start") })).Header.Revision;
        var leases = new EtcdLease.LeaseClient(channel);
        var a = (await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 })).ID;
        var b = (await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 })).ID;
        string Name(ByteString key) => key.ToStringUtf8()
            .Replace(a.ToString("x", CultureInfo.InvariantCulture), "A", StringComparison.Ordinal)
            .Replace(b.ToString("x", CultureInfo.InvariantCulture), "B", StringComparison.Ordinal);
        string Rev(ResponseHeader? header) => header is null ? "no header" : $"rev +{header.Revision - start}";
        var lines = new List<string>();
        async Task CallAsync(string what, Func<Task<string>> call)
        {
            try
            {
                lines.Add($"{what}: {await call()}");
            }
            catch (RpcException e)
            {
                lines.Add($"{what}: {e.StatusCode} {e.Status.Detail}");
            }
        }

        var locks = new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(channel);
        var elections = new Election.ElectionClient(channel);
        await CallAsync("lock A", async () => { var r = await locks.LockAsync(new LockRequest { Name = B("lk"), Lease = a }); return $"{Name(r.Key)} {Rev(r.Header)}"; });
        await CallAsync("lock A again", async () => { var r = await locks.LockAsync(new LockRequest { Name = B("lk"), Lease = a }); return $"{Name(r.Key)} {Rev(r.Header)}"; });
        await CallAsync("lock unknown lease", async () => { var r = await locks.LockAsync(new LockRequest { Name = B("lk"), Lease = 0x7777 }); return Name(r.Key); });
        await CallAsync("unlock", async () => Rev((await locks.UnlockAsync(new UnlockRequest { Key = B($"lk/{a:x}") })).Header));
        await CallAsync("unlock missing", async () => Rev((await locks.UnlockAsync(new UnlockRequest { Key = B($"lk/{a:x}") })).Header));
        await CallAsync("unlock empty", async () => Rev((await locks.UnlockAsync(new UnlockRequest())).Header));
        await CallAsync("lock empty name", async () => Name((await locks.LockAsync(new LockRequest { Lease = b })).Key));

        await CallAsync("leader none", async () => (await elections.LeaderAsync(new LeaderRequest { Name = B("e") })).Kv.Value.ToStringUtf8());
        CampaignResponse? won = null;
        await CallAsync("campaign A", async () =>
        {
            won = await elections.CampaignAsync(new CampaignRequest { Name = B("e"), Lease = a, Value = B("a") });
            return $"{Name(won.Leader.Key)} {Name(won.Leader.Name)} rev +{won.Leader.Rev - start} {Rev(won.Header)}";
        });
        await CallAsync("campaign unknown lease", async () => Name((await elections.CampaignAsync(new CampaignRequest { Name = B("e"), Lease = 0x7777, Value = B("x") })).Leader.Key));
        await CallAsync("leader", async () => { var r = await elections.LeaderAsync(new LeaderRequest { Name = B("e") }); return $"{Name(r.Kv.Key)}={r.Kv.Value.ToStringUtf8()} {Rev(r.Header)}"; });
        await CallAsync("proclaim", async () => Rev((await elections.ProclaimAsync(new ProclaimRequest { Leader = won!.Leader, Value = B("a2") })).Header));
        await CallAsync("campaign A again", async () => { var r = await elections.CampaignAsync(new CampaignRequest { Name = B("e"), Lease = a, Value = B("a3") }); return $"{Name(r.Leader.Key)} rev +{r.Leader.Rev - start} {Rev(r.Header)}"; });
        await CallAsync("proclaim no leader", async () => Rev((await elections.ProclaimAsync(new ProclaimRequest { Value = B("x") })).Header));
        await CallAsync("resign no leader", async () => Rev((await elections.ResignAsync(new ResignRequest())).Header));
        await CallAsync("resign", async () => Rev((await elections.ResignAsync(new ResignRequest { Leader = won!.Leader })).Header));
        await CallAsync("resign again", async () => Rev((await elections.ResignAsync(new ResignRequest { Leader = won!.Leader })).Header));
        await CallAsync("proclaim stale", async () => Rev((await elections.ProclaimAsync(new ProclaimRequest { Leader = won!.Leader, Value = B("x") })).Header));
        await CallAsync("leader after resign", async () => (await elections.LeaderAsync(new LeaderRequest { Name = B("e") })).Kv.Value.ToStringUtf8());
        return lines;
    }

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);
}
