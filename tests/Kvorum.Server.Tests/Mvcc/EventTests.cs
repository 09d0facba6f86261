using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Etcd.Keys;
using Kvorum.Server.Mvcc;
using static Kvorum.Server.Tests.Mvcc.StoreOps;
using EventType = Kvorum.Etcd.Api.Event.Types.EventType;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>Changes as watch events: from the history, and as each write commits.</summary>
public class EventTests
{
    [Fact]
    public void History_events_come_in_revision_order_with_prev_kv()
    {
        var store = new MvccStore();
        store.Put("b", "1");   // 2
        store.Put("a", "1");   // 3
        store.Put("b", "2");   // 4
        store.Delete("a");     // 5
        store.Put("z", "1");   // 6, outside the range

        var events = store.GetEvents(KeyRange.FromRequest(B("a"), B("c")), startRevision: 3);

        Assert.Equal(
            [(EventType.Put, "a", 3L), (EventType.Put, "b", 4L), (EventType.Delete, "a", 5L)],
            events.Select(e => (e.Type, S(e.Kv.Key), e.Kv.ModRevision)));
        Assert.Null(events[0].PrevKv);
        Assert.Equal("1", S(events[1].PrevKv.Value));
        Assert.Equal(0, events[2].Kv.Version);
        Assert.Equal(3, events[2].PrevKv.ModRevision);
    }

    [Fact]
    public void Events_before_the_compaction_are_gone()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("a", "2");
        store.Put("a", "3");
        store.Compact(new CompactionRequest { Revision = 3 });

        Assert.Throws<EtcdException>(() => store.GetEvents(KeyRange.ForKey(B("a")), 2));
        var events = store.GetEvents(KeyRange.ForKey(B("a")), 3);
        Assert.Equal([3L, 4L], events.Select(e => e.Kv.ModRevision));
    }

    [Fact]
    public void Committed_reports_each_new_revision_once_with_all_its_changes()
    {
        var store = new MvccStore();
        store.Put("gone", "x");
        var seen = new List<MvccCommittedEventArgs>();
        store.Committed += (_, args) => seen.Add(args);

        store.Txn(new TxnRequest { Success = { PutOp("a", "1"), DeleteOp("gone"), PutOp("b", "1") } });
        store.Delete("missing");                 // no revision, no notification
        store.Txn(new TxnRequest { Success = { RangeOp("a") } });   // read-only
        Assert.Throws<EtcdException>(() => store.Put(new PutRequest { Key = B("nope"), IgnoreValue = true }));
        store.Put("a", "2");

        Assert.Equal([3L, 4L], seen.Select(s => s.Revision));
        Assert.Equal(
            [(EventType.Put, "a"), (EventType.Delete, "gone"), (EventType.Put, "b")],
            seen[0].Events.Select(e => (e.Type, S(e.Kv.Key))));
        Assert.Equal("x", S(seen[0].Events[1].PrevKv.Value));
        Assert.Equal("1", S(seen[1].Events[0].PrevKv.Value));
    }
}
