using Google.Protobuf;
using Kvorum.Etcd.Api;
using static Kvorum.Server.Tests.Watch.RegistryFixture;

namespace Kvorum.Server.Tests.Watch;

/// <summary>
/// What a commit costs the registry: the events each watcher gets are made once per commit and shared, each queued
/// response counts its exact encoded size against its watcher's bound, and the latest revisions are kept only while a
/// watcher is behind.
/// </summary>
public sealed class CommitDeliveryTests
{
    private readonly RegistryFixture _f = new();

    [Fact]
    public void While_every_watcher_is_synced_only_the_revision_handed_over_is_kept_and_a_watcher_behind_keeps_the_run()
    {
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("k"));
        for (var i = 0; i < 10; i++)
            _f.Put("k", $"v{i}");
        Assert.Equal(1, _f.Registry.RecentCount);

        _f.Registry.Create(stream, Create("other", start: 2)); // behind until its catch-up runs
        for (var i = 0; i < 5; i++)
            _f.Put("k", $"w{i}");
        Assert.Equal(1, _f.Registry.UnsyncedCount);
        Assert.Equal(6, _f.Registry.RecentCount);

        _f.RunCatchUp();
        Assert.Equal(0, _f.Registry.UnsyncedCount);
        _f.Put("k", "x");
        Assert.Equal(1, _f.Registry.RecentCount);
    }

    [Fact]
    public void Each_response_counts_its_encoded_size_and_the_watchers_of_a_commit_share_its_events()
    {
        _f.Put("a", "old-a");
        _f.Put("b", "old-b");
        var stream = _f.Open();
        var plain = Create("a", "d");
        var withPrevious = Create("a", "d");
        withPrevious.PrevKv = true;
        var onlyA = Create("a");
        var noPut = Create("a", "d");
        noPut.Filters.Add(WatchCreateRequest.Types.FilterType.Noput);
        foreach (var request in new[] { plain, withPrevious, onlyA, Create("a", "d"), noPut })
            _f.Registry.Create(stream, request);
        while (stream.Outgoing.TryRead(out _))
        {
        }

        var txn = new TxnRequest();
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("a"), Value = ByteString.CopyFromUtf8(new string('x', 300)) } });
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("b") } });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("c"), Value = ByteString.CopyFromUtf8("new-c") } });
        _f.Store.Txn(txn);

        var queued = new List<Kvorum.Server.Watch.OutgoingResponse>();
        while (stream.Outgoing.TryRead(out var item))
            queued.Add(item);
        Assert.Equal([0L, 1, 2, 3, 4], queued.Select(q => q.Response.WatchId).Order());
        Assert.All(queued, q => Assert.Equal(q.Response.CalculateSize(), q.Bytes));
        Assert.All(queued, q => Assert.Equal(q.Bytes, q.Watcher!.Pending.Bytes));

        var events = queued.ToDictionary(q => q.Response.WatchId, q => q.Response.Events);
        Assert.Equal(["a", "b", "c"], events[0].Select(e => e.Kv.Key.ToStringUtf8()));
        Assert.All(events[0], e => Assert.Null(e.PrevKv));
        Assert.Equal(["old-a", "old-b", null], events[1].Select(e => e.PrevKv?.Value.ToStringUtf8()));
        Assert.Single(events[2]);
        Assert.Equal([Event.Types.EventType.Delete], events[4].Select(e => e.Type));
        // One event per change of the commit, whichever watchers it goes to.
        for (var i = 0; i < 3; i++)
            Assert.Same(events[0][i], events[3][i]);
        Assert.Same(events[0][0], events[2][0]);
        Assert.Same(events[0][1], events[4][0]);
    }
}
