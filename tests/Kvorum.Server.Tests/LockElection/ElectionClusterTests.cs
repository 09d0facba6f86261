using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Api.V3Election;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Tests.Cluster;
using EtcdLease = Kvorum.Etcd.Api.Lease;

namespace Kvorum.Server.Tests.LockElection;

/// <summary>
/// etcd's Election service on a real 3-member cluster in this process, driven by the generated client: Campaign,
/// Proclaim, Leader, Resign, and Observe seeing each leader and each proclamation; etcd's answers (status Unknown).
/// </summary>
public sealed class ElectionClusterTests : IAsyncLifetime
{
    private readonly LocalCluster _cluster = new(3);
    private GrpcChannel _first = null!;
    private GrpcChannel _second = null!;

    public async Task InitializeAsync()
    {
        _cluster.StartAll();
        using var client = await _cluster.ConnectAsync();
        _first = GrpcChannel.ForAddress(_cluster.ClientUrl("m1"));
        _second = GrpcChannel.ForAddress(_cluster.ClientUrl("m2"));
    }

    public async Task DisposeAsync()
    {
        _first.Dispose();
        _second.Dispose();
        await _cluster.DisposeAsync();
    }

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static async Task<long> GrantAsync(GrpcChannel channel) =>
        (await new EtcdLease.LeaseClient(channel).LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 })).ID;

    private static void AssertUnknown(EtcdError expected, RpcException error) =>
        Assert.Equal((StatusCode.Unknown, expected.Message), (error.StatusCode, error.Status.Detail));

    [Fact]
    public async Task A_stopping_member_ends_its_observe_streams_instead_of_waiting_for_them()
    {
        // No one campaigns: the stream waits for a first leader, as etcd's does, until the member stops.
        using var observe = new Election.ElectionClient(_second).Observe(new LeaderRequest { Name = B("nobody") });
        await Task.Delay(500);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var stopping = _cluster.StopAsync("m2");
        var ended = Task.Run(async () =>
        {
            try
            {
                while (await observe.ResponseStream.MoveNext(CancellationToken.None))
                {
                }
            }
            catch (RpcException)
            {
                // Ended by the member, whatever the status.
            }
        });
        await stopping;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the member took {clock.Elapsed.TotalSeconds:0.0} s to stop");
        await ended.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Campaign_proclaim_resign_hand_over_and_observe_sees_each_leader_and_value()
    {
        var elections = new Election.ElectionClient(_first);
        var others = new Election.ElectionClient(_second);
        var leaseA = await GrantAsync(_first);
        var leaseB = await GrantAsync(_second);

        var none = await Assert.ThrowsAsync<RpcException>(() => elections.LeaderAsync(new LeaderRequest { Name = B("e") }).ResponseAsync);
        AssertUnknown(EtcdErrors.ElectionNoLeader, none);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var observe = others.Observe(new LeaderRequest { Name = B("e") }, cancellationToken: stop.Token);
        var seen = new List<string>();
        async Task<string> NextAsync()
        {
            Assert.True(await observe.ResponseStream.MoveNext(stop.Token));
            var kv = observe.ResponseStream.Current.Kv;
            var line = $"{kv.Key.ToStringUtf8()}={kv.Value.ToStringUtf8()}";
            seen.Add(line);
            return line;
        }

        var a = await elections.CampaignAsync(new CampaignRequest { Name = B("e"), Lease = leaseA, Value = B("a") });
        Assert.Equal(($"e/{leaseA:x}", a.Header.Revision, leaseA, "e"), (a.Leader.Key.ToStringUtf8(), a.Leader.Rev, a.Leader.Lease, a.Leader.Name.ToStringUtf8()));
        Assert.Equal($"e/{leaseA:x}=a", await NextAsync());

        var leader = await others.LeaderAsync(new LeaderRequest { Name = B("e") });
        Assert.Equal(("a", a.Leader.Rev), (leader.Kv.Value.ToStringUtf8(), leader.Kv.CreateRevision));

        var b = others.CampaignAsync(new CampaignRequest { Name = B("e"), Lease = leaseB, Value = B("b") }).ResponseAsync;
        await Task.WhenAny(b, Task.Delay(700));
        Assert.False(b.IsCompleted, "a second candidate was elected while the first led");

        var proclaimed = await elections.ProclaimAsync(new ProclaimRequest { Leader = a.Leader, Value = B("a2") });
        Assert.True(proclaimed.Header.Revision > a.Header.Revision);
        Assert.Equal($"e/{leaseA:x}=a2", await NextAsync());

        var resigned = await elections.ResignAsync(new ResignRequest { Leader = a.Leader });
        var elected = await b.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal($"e/{leaseB:x}", elected.Leader.Key.ToStringUtf8());
        // The answer carries the header of the campaign's first txn, from before it waited.
        Assert.True(elected.Header.Revision < resigned.Header.Revision);
        Assert.Equal($"e/{leaseB:x}=b", await NextAsync());

        var stale = await Assert.ThrowsAsync<RpcException>(() => elections.ProclaimAsync(new ProclaimRequest { Leader = a.Leader, Value = B("x") }).ResponseAsync);
        AssertUnknown(EtcdErrors.ElectionNotLeader, stale);
        // Resigning a leadership that is gone is not an error.
        await elections.ResignAsync(new ResignRequest { Leader = a.Leader });
        Assert.Equal("b", (await elections.LeaderAsync(new LeaderRequest { Name = B("e") })).Kv.Value.ToStringUtf8());

        // Campaigning again with the same lease and another value proclaims it.
        var again = await others.CampaignAsync(new CampaignRequest { Name = B("e"), Lease = leaseB, Value = B("b2") });
        Assert.Equal(elected.Leader.Rev, again.Leader.Rev);
        Assert.Equal($"e/{leaseB:x}=b2", await NextAsync());
        Assert.Equal([$"e/{leaseA:x}=a", $"e/{leaseA:x}=a2", $"e/{leaseB:x}=b", $"e/{leaseB:x}=b2"], seen);
    }

    [Fact]
    public async Task Proclaim_and_resign_without_a_leader_key_and_campaign_on_an_unknown_lease_fail_as_Unknown()
    {
        var elections = new Election.ElectionClient(_first);
        AssertUnknown(EtcdErrors.LeaderKeyMissing, await Assert.ThrowsAsync<RpcException>(() => elections.ProclaimAsync(new ProclaimRequest { Value = B("v") }).ResponseAsync));
        AssertUnknown(EtcdErrors.LeaderKeyMissing, await Assert.ThrowsAsync<RpcException>(() => elections.ResignAsync(new ResignRequest()).ResponseAsync));
        AssertUnknown(EtcdErrors.LeaseNotFound, await Assert.ThrowsAsync<RpcException>(
            () => elections.CampaignAsync(new CampaignRequest { Name = B("u"), Lease = 0x4242, Value = B("v") }).ResponseAsync));

        var fresh = await elections.CampaignAsync(new CampaignRequest { Name = B("f"), Value = B("v") });
        Assert.NotEqual(0, fresh.Leader.Lease);
        Assert.Equal($"f/{fresh.Leader.Lease:x}", fresh.Leader.Key.ToStringUtf8());
    }
}
