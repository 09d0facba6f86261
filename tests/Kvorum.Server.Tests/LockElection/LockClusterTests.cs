using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Api.V3Lock;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Tests.Cluster;
using EtcdLease = Kvorum.Etcd.Api.Lease;

namespace Kvorum.Server.Tests.LockElection;

/// <summary>
/// etcd's Lock service on a real 3-member cluster in this process, driven by the generated client: ownership in
/// creation-revision order, hand-over on unlock, on revoke and on expiry, and etcd's answers (status Unknown).
/// </summary>
public sealed class LockClusterTests : IAsyncLifetime
{
    private readonly LocalCluster _cluster = new(3);
    private readonly List<GrpcChannel> _channels = [];

    public async Task InitializeAsync()
    {
        _cluster.StartAll();
        using var client = await _cluster.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var channel in _channels)
            channel.Dispose();
        await _cluster.DisposeAsync();
    }

    private GrpcChannel Channel(int member)
    {
        var channel = GrpcChannel.ForAddress(_cluster.ClientUrl(_cluster.Names.ElementAt(member)));
        _channels.Add(channel);
        return channel;
    }

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static async Task<long> GrantAsync(GrpcChannel channel, long ttl) =>
        (await new EtcdLease.LeaseClient(channel).LeaseGrantAsync(new LeaseGrantRequest { TTL = ttl })).ID;

    /// <summary>Asserts that <paramref name="waiting"/> is still blocked a while later.</summary>
    private static async Task AssertWaitingAsync(Task waiting)
    {
        await Task.WhenAny(waiting, Task.Delay(700));
        Assert.False(waiting.IsCompleted, "the second contender got the lock while the first held it");
    }

    [Fact]
    public async Task A_stopping_member_ends_the_lock_calls_waiting_on_it_instead_of_waiting_for_them()
    {
        var first = Channel(0);
        var second = Channel(1);
        var leaseA = await GrantAsync(first, 60);
        var leaseB = await GrantAsync(first, 60);
        await new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(first).LockAsync(new LockRequest { Name = B("held"), Lease = leaseA });
        var waiting = new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(second).LockAsync(new LockRequest { Name = B("held"), Lease = leaseB }).ResponseAsync;
        await AssertWaitingAsync(waiting);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await _cluster.StopAsync(_cluster.Names.ElementAt(1));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the member took {clock.Elapsed.TotalSeconds:0.0} s to stop");
        await Assert.ThrowsAsync<RpcException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Second_contender_waits_until_the_first_unlocks_and_keys_are_name_slash_lease_hex()
    {
        var first = Channel(0);
        var second = Channel(1);
        var leaseA = await GrantAsync(first, 60);
        var leaseB = await GrantAsync(second, 60);

        var held = await new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(first).LockAsync(new LockRequest { Name = B("lk"), Lease = leaseA });
        Assert.Equal($"lk/{leaseA:x}", held.Key.ToStringUtf8());
        Assert.True(held.Header.Revision > 0 && held.Header.MemberId != 0);

        // The same lease locks again at once, with the same key.
        var again = await new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(first).LockAsync(new LockRequest { Name = B("lk"), Lease = leaseA });
        Assert.Equal(held.Key, again.Key);

        var waiting = new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(second).LockAsync(new LockRequest { Name = B("lk"), Lease = leaseB }).ResponseAsync;
        await AssertWaitingAsync(waiting);

        var unlocked = await new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(first).UnlockAsync(new UnlockRequest { Key = held.Key });
        var next = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal($"lk/{leaseB:x}", next.Key.ToStringUtf8());
        Assert.True(next.Header.Revision >= unlocked.Header.Revision);

        // A missing key unlocks fine; an empty one is refused with the KV API's text.
        await new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(first).UnlockAsync(new UnlockRequest { Key = held.Key });
        var empty = await Assert.ThrowsAsync<RpcException>(() => new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(first).UnlockAsync(new UnlockRequest()).ResponseAsync);
        Assert.Equal((StatusCode.Unknown, EtcdErrors.EmptyKey.Message), (empty.StatusCode, empty.Status.Detail));
    }

    [Fact]
    public async Task Lock_passes_to_the_next_contender_when_the_holders_lease_is_revoked_or_expires()
    {
        var channel = Channel(0);
        var locks = new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(channel);
        var revoked = await GrantAsync(channel, 60);
        var expiring = await GrantAsync(channel, 2);
        var last = await GrantAsync(channel, 60);

        // The short lease is kept alive until its holder has the lock, so that a slow machine cannot let it expire
        // while it still waits in line.
        using var keepingAlive = new CancellationTokenSource();
        var keepAlive = KeepAliveAsync(channel, expiring, keepingAlive.Token);

        await locks.LockAsync(new LockRequest { Name = B("pass"), Lease = revoked });
        var second = locks.LockAsync(new LockRequest { Name = B("pass"), Lease = expiring }).ResponseAsync;
        await AssertWaitingAsync(second);
        var third = locks.LockAsync(new LockRequest { Name = B("pass"), Lease = last }).ResponseAsync;

        await new EtcdLease.LeaseClient(channel).LeaseRevokeAsync(new LeaseRevokeRequest { ID = revoked });
        Assert.Equal($"pass/{expiring:x}", (await second.WaitAsync(TimeSpan.FromSeconds(10))).Key.ToStringUtf8());
        Assert.False(third.IsCompleted);
        await keepingAlive.CancelAsync();
        await keepAlive;

        // Nothing keeps the second holder's lease alive: it expires and the third gets the lock.
        Assert.Equal($"pass/{last:x}", (await third.WaitAsync(TimeSpan.FromSeconds(15))).Key.ToStringUtf8());
    }

    /// <summary>Renews <paramref name="lease"/> every half second until <paramref name="stop"/> fires.</summary>
    private static async Task KeepAliveAsync(GrpcChannel channel, long lease, CancellationToken stop)
    {
        using var call = new EtcdLease.LeaseClient(channel).LeaseKeepAlive(cancellationToken: stop);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease }, stop);
                await call.ResponseStream.MoveNext(stop);
                await Task.Delay(500, stop);
            }
        }
        catch (Exception e) when (e is OperationCanceledException || (e is RpcException r && r.StatusCode == StatusCode.Cancelled))
        {
        }
    }

    [Fact]
    public async Task Unknown_lease_is_refused_as_Unknown_and_lease_zero_gets_a_fresh_60_second_lease()
    {
        var channel = Channel(2);
        var locks = new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(channel);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => locks.LockAsync(new LockRequest { Name = B("u"), Lease = 0x7777 }).ResponseAsync);
        Assert.Equal((StatusCode.Unknown, EtcdErrors.LeaseNotFound.Message), (unknown.StatusCode, unknown.Status.Detail));

        var fresh = await locks.LockAsync(new LockRequest { Name = B("z") });
        var key = fresh.Key.ToStringUtf8();
        Assert.StartsWith("z/", key, StringComparison.Ordinal);
        var lease = Convert.ToInt64(key[2..], 16);
        var ttl = await new EtcdLease.LeaseClient(channel).LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease, Keys = true });
        Assert.Equal(60, ttl.GrantedTTL);
        Assert.Equal([key], ttl.Keys.Select(k => k.ToStringUtf8()));

        // An empty name gives the key /<lease hex>.
        var nameless = await locks.LockAsync(new LockRequest { Lease = lease });
        Assert.Equal($"/{lease:x}", nameless.Key.ToStringUtf8());
    }
}
