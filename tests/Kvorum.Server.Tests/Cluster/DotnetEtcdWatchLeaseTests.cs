using System.Collections.Concurrent;
using Etcdserverpb;
using Google.Protobuf;
using Mvccpb;

namespace Kvorum.Server.Tests.Cluster;

/// <summary>
/// dotnet-etcd's Watch, Lease and Observe calls against a 3-member Kvorum cluster: the client most .NET applications
/// use, unchanged, as it would talk to etcd.
/// </summary>
public sealed class DotnetEtcdWatchLeaseTests : IAsyncLifetime
{
    private readonly LocalCluster _cluster = new(3);
    private dotnet_etcd.EtcdClient _client = null!;

    public async Task InitializeAsync()
    {
        _cluster.StartAll();
        _client = await _cluster.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _cluster.DisposeAsync();
    }

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static async Task<T> EventuallyAsync<T>(Func<T?> probe, string what)
        where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            if (probe() is { } value)
                return value;
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_watch_from_an_old_revision_replays_the_history_then_follows_live_puts_and_deletes_with_prev_kv()
    {
        var first = await _client.PutAsync("dw/a", "1");
        await _client.PutAsync("dw/b", "2");
        await _client.PutAsync("other", "x");
        var seen = new ConcurrentQueue<Event>();
        using var stop = new CancellationTokenSource();
        await _client.WatchAsync(
            new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("dw/"), RangeEnd = B("dw0"), StartRevision = first.Header.Revision, PrevKv = true } },
            r =>
            {
                foreach (var e in r.Events)
                    seen.Enqueue(e);
            },
            cancellationToken: stop.Token);

        await _client.PutAsync("dw/a", "3");
        var deleted = await _client.DeleteAsync("dw/b");

        var events = await EventuallyAsync(() => seen.Count >= 4 ? seen.ToArray() : null, "four events");
        Assert.Equal(
            ["PUT dw/a=1", "PUT dw/b=2", "PUT dw/a=3 (was 1)", "DELETE dw/b (was 2)"],
            events.Select(e => e.Type == Event.Types.EventType.Put
                ? $"PUT {e.Kv.Key.ToStringUtf8()}={e.Kv.Value.ToStringUtf8()}{(e.PrevKv is null ? "" : $" (was {e.PrevKv.Value.ToStringUtf8()})")}"
                : $"DELETE {e.Kv.Key.ToStringUtf8()} (was {e.PrevKv.Value.ToStringUtf8()})"));
        Assert.Equal(deleted.Header.Revision, events[^1].Kv.ModRevision);
        Assert.Equal(events.Select(e => e.Kv.ModRevision).Order(), events.Select(e => e.Kv.ModRevision));
        await stop.CancelAsync();
    }

    [Fact]
    public async Task A_watch_from_a_compacted_revision_is_told_the_compact_revision()
    {
        var old = await _client.PutAsync("dc", "1");
        var latest = await _client.PutAsync("dc", "2");
        await _client.CompactAsync(new CompactionRequest { Revision = latest.Header.Revision, Physical = true });
        var responses = new ConcurrentQueue<WatchResponse>();
        using var stop = new CancellationTokenSource();
        await _client.WatchAsync(
            new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("dc"), StartRevision = old.Header.Revision } },
            responses.Enqueue,
            cancellationToken: stop.Token);

        var canceled = await EventuallyAsync(() => responses.FirstOrDefault(r => r.Canceled), "the cancel");
        Assert.Equal(latest.Header.Revision, canceled.CompactRevision);
        Assert.Empty(canceled.Events);
        await stop.CancelAsync();
    }

    [Fact]
    public async Task A_kept_alive_lease_keeps_its_key_and_an_abandoned_one_takes_its_key_with_it()
    {
        var kept = await _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = 3 });
        var abandoned = await _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = 3 });
        await _client.PutAsync(new PutRequest { Key = B("dl/kept"), Value = B("k"), Lease = kept.ID });
        var put = await _client.PutAsync(new PutRequest { Key = B("dl/gone"), Value = B("g"), Lease = abandoned.ID });
        var deletes = new ConcurrentQueue<Event>();
        using var stop = new CancellationTokenSource();
        await _client.WatchAsync(
            new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("dl/"), RangeEnd = B("dl0"), StartRevision = put.Header.Revision + 1 } },
            r =>
            {
                foreach (var e in r.Events.Where(e => e.Type == Event.Types.EventType.Delete))
                    deletes.Enqueue(e);
            },
            cancellationToken: stop.Token);
        var keepingAlive = _client.LeaseKeepAlive(kept.ID, stop.Token);

        var gone = await EventuallyAsync(() => deletes.TryPeek(out var e) ? e : null, "the abandoned lease's key to go");
        Assert.Equal("dl/gone", gone.Kv.Key.ToStringUtf8());
        var ttl = await _client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = abandoned.ID });
        Assert.Equal(-1, ttl.TTL);

        // Well past the kept lease's TTL: it is still there, with its key.
        await Task.Delay(TimeSpan.FromSeconds(4));
        var alive = await _client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = kept.ID, Keys = true });
        Assert.True(alive.TTL > 0, $"TTL {alive.TTL}");
        Assert.Equal(["dl/kept"], alive.Keys.Select(k => k.ToStringUtf8()));
        Assert.Single(deletes);
        Assert.Contains(kept.ID, (await _client.LeaseLeasesAsync(new LeaseLeasesRequest())).Leases.Select(l => l.ID));
        await stop.CancelAsync();
        await Task.WhenAny(keepingAlive, Task.Delay(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Observe_sees_each_new_leader_of_an_election()
    {
        var leaseA = (await _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 })).ID;
        var leaseB = (await _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 })).ID;
        var a = await _client.CampaignAsync(new V3Electionpb.CampaignRequest { Name = B("do"), Value = B("a"), Lease = leaseA });

        var observed = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var observing = Task.Run(async () =>
        {
            try
            {
                await foreach (var leader in _client.ObserveAsync("do", cancellationToken: stop.Token))
                    observed.Enqueue(leader.Kv.Value.ToStringUtf8());
            }
            catch (Exception e) when (e is OperationCanceledException || (e is Grpc.Core.RpcException r && r.StatusCode == Grpc.Core.StatusCode.Cancelled))
            {
            }
        });
        await EventuallyAsync(() => observed.Contains("a") ? observed : null, "the first leader");

        await _client.ProclaimAsync(new V3Electionpb.ProclaimRequest { Leader = a.Leader, Value = B("a2") });
        var b = _client.CampaignAsync(new V3Electionpb.CampaignRequest { Name = B("do"), Value = B("b"), Lease = leaseB });
        await _client.ResignAsync(new V3Electionpb.ResignRequest { Leader = a.Leader });
        await b.WaitAsync(TimeSpan.FromSeconds(10));

        var values = await EventuallyAsync(() => observed.Contains("b") ? observed.ToArray() : null, "the second leader");
        Assert.Equal(["a", "a2", "b"], values);
        await stop.CancelAsync();
        await observing;
    }
}
