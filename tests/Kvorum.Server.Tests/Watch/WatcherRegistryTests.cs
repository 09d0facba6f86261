using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using static Kvorum.Server.Tests.Watch.RegistryFixture;

namespace Kvorum.Server.Tests.Watch;

/// <summary>etcd's answers to creating, cancelling and asking progress of watches, and the events they get (doc §2).</summary>
public sealed class WatcherRegistryTests
{
    private readonly RegistryFixture _f = new();

    [Fact]
    public void Ids_the_server_picks_start_at_0_and_skip_ids_taken()
    {
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("a"));
        _f.Registry.Create(stream, Create("a"));
        _f.Registry.Create(stream, Create("a", id: 7));
        _f.Registry.Create(stream, Create("a", id: 2));
        _f.Registry.Create(stream, Create("a"));
        var created = Drain(stream);
        Assert.All(created, r => Assert.True(r.Created && !r.Canceled));
        Assert.Equal([0L, 1, 7, 2, 3], created.Select(r => r.WatchId));
    }

    [Fact]
    public void A_duplicate_id_an_empty_range_and_a_negative_start_are_refused_as_etcd_refuses_them()
    {
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("a", id: 5));
        _f.Registry.Create(stream, Create("a", id: 5));
        _f.Registry.Create(stream, Create("b", "a"));
        _f.Registry.Create(stream, Create("b", "b"));
        _f.Registry.Create(stream, Create("a", start: -1));
        var answers = Drain(stream);
        Assert.Equal(5, answers[0].WatchId);
        Assert.All(answers.Skip(1), r => Assert.True(r.Created && r.Canceled && r.WatchId == -1 && r.Header.Revision == 1));
        Assert.Equal(
            [EtcdErrors.WatchDuplicateId.Message, EtcdErrors.WatchRangeEmpty.Message, EtcdErrors.WatchRangeEmpty.Message, EtcdErrors.Compacted.Message],
            answers.Skip(1).Select(r => r.CancelReason));
    }

    [Fact]
    public void An_unknown_cancel_gets_no_answer_and_a_known_one_ends_the_watcher()
    {
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("a"));
        Drain(stream);
        _f.Registry.Cancel(stream, 42);
        Assert.Empty(Drain(stream));
        _f.Put("x", "1");
        _f.Registry.Cancel(stream, 0);
        var cancel = Assert.Single(Drain(stream));
        Assert.True(cancel.Canceled);
        Assert.Equal((0L, 2L), (cancel.WatchId, cancel.Header.Revision));
        _f.Put("a", "1");
        Assert.Empty(Drain(stream));
    }

    [Fact]
    public void Created_comes_first_then_one_response_per_revision_with_a_txns_events_in_txn_order()
    {
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("k", "l"));
        _f.Put("k1", "a");
        var txn = new TxnRequest();
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("k9"), Value = ByteString.CopyFromUtf8("b") } });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("k2"), Value = ByteString.CopyFromUtf8("c") } });
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("k1") } });
        _f.Store.Txn(txn);
        _f.Put("z", "outside");

        var sent = Drain(stream);
        Assert.True(sent[0].Created);
        Assert.Equal(1, sent[0].Header.Revision);
        Assert.Equal([2L, 3], sent.Skip(1).Select(r => r.Header.Revision));
        Assert.Equal(["k9", "k2", "k1"], sent[2].Events.Select(e => e.Kv.Key.ToStringUtf8()));
        var delete = sent[2].Events[2];
        Assert.Equal(Event.Types.EventType.Delete, delete.Type);
        Assert.Equal(new KeyValue { Key = ByteString.CopyFromUtf8("k1"), ModRevision = 3 }, delete.Kv);
    }

    [Fact]
    public void Filters_drop_their_kind_and_a_response_left_empty_is_not_sent()
    {
        var stream = _f.Open();
        var noPut = Create("k");
        noPut.Filters.Add(WatchCreateRequest.Types.FilterType.Noput);
        var noDelete = Create("k");
        noDelete.Filters.Add(WatchCreateRequest.Types.FilterType.Nodelete);
        _f.Registry.Create(stream, noPut);
        _f.Registry.Create(stream, noDelete);
        Drain(stream);
        _f.Put("k", "1");
        _f.Delete("k");
        var sent = Drain(stream);
        Assert.Equal([(1L, Event.Types.EventType.Put), (0L, Event.Types.EventType.Delete)], sent.Select(r => (r.WatchId, Assert.Single(r.Events).Type)));
    }

    [Fact]
    public void Prev_kv_is_sent_only_to_watchers_that_ask_for_it()
    {
        var stream = _f.Open();
        _f.Put("k", "old");
        var withPrev = Create("k");
        withPrev.PrevKv = true;
        _f.Registry.Create(stream, withPrev);
        _f.Registry.Create(stream, Create("k"));
        Drain(stream);
        _f.Put("k", "new");
        _f.Delete("k");
        _f.Put("k", "again");
        var sent = Drain(stream);
        var asked = sent.Where(r => r.WatchId == 0).Select(r => r.Events.Single()).ToList();
        Assert.Equal(["old", "new", null], asked.Select(e => e.PrevKv?.Value.ToStringUtf8()));
        Assert.All(sent.Where(r => r.WatchId == 1), r => Assert.Null(r.Events.Single().PrevKv));
    }

    [Fact]
    public void A_past_start_replays_the_history_and_a_future_start_skips_what_comes_before_it()
    {
        _f.Put("k", "1");
        _f.Put("k", "2");
        _f.Put("k", "3");
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("k", start: 3));
        _f.Registry.Create(stream, Create("k", start: 6));
        Assert.Equal(1, _f.Registry.UnsyncedCount);
        _f.RunCatchUp();
        Assert.Equal(0, _f.Registry.UnsyncedCount);
        _f.Put("k", "4");
        _f.Put("k", "5");
        var sent = Drain(stream).Where(r => !r.Created).ToList();
        Assert.Equal([(0L, 3L), (0L, 4L), (0L, 5L), (0L, 6L), (1L, 6L)], sent.SelectMany(r => r.Events.Select(e => (r.WatchId, e.Kv.ModRevision))).Order());
        Assert.Equal(4, sent[0].Header.Revision); // a batch from the history carries the current revision
    }

    [Fact]
    public void A_compacted_start_gets_created_then_a_cancel_with_the_compaction_revision()
    {
        for (var i = 0; i < 5; i++)
            _f.Put("k", $"{i}");
        _f.Compact(4);
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("k", start: 3));
        _f.Registry.Create(stream, Create("k", start: 4));
        _f.RunCatchUp();
        var sent = Drain(stream);
        Assert.True(sent[0].Created && sent[1].Created);
        var cancel = sent.Single(r => r.Canceled);
        Assert.Equal((0L, 4L, 0L, ""), (cancel.WatchId, cancel.CompactRevision, cancel.Header.Revision, cancel.CancelReason));
        Assert.Equal([4L, 5, 6], sent.Where(r => r.WatchId == 1).SelectMany(r => r.Events).Select(e => e.Kv.ModRevision));
        // etcd keeps a compacted watch's id until the client cancels it: a new watch does not get it, and the cancel is answered.
        _f.Registry.Create(stream, Create("k"));
        _f.Registry.Cancel(stream, 0);
        sent = Drain(stream);
        Assert.Equal((2L, true), (sent[0].WatchId, sent[0].Created));
        Assert.Equal((0L, true), (sent[1].WatchId, sent[1].Canceled));
    }

    [Fact]
    public void Progress_is_answered_only_when_every_watcher_of_the_stream_is_synced()
    {
        var stream = _f.Open();
        _f.Registry.RequestProgress(stream);
        Assert.Empty(Drain(stream));
        _f.Put("k", "1");
        _f.Registry.Create(stream, Create("k", start: 1));
        Drain(stream);
        _f.Registry.RequestProgress(stream);
        Assert.Empty(Drain(stream));
        _f.RunCatchUp();
        _f.Registry.RequestProgress(stream);
        var sent = Drain(stream);
        Assert.Equal((-1L, 2L), (sent[^1].WatchId, sent[^1].Header.Revision));
        Assert.Single(sent[^2].Events);
    }

    [Fact]
    public void Progress_notify_skips_the_interval_after_events()
    {
        var stream = _f.Open();
        var request = Create("k");
        request.ProgressNotify = true;
        _f.Registry.Create(stream, request);
        _f.Registry.Create(stream, Create("k"));
        Drain(stream);
        _f.Registry.NotifyProgress(stream);
        Assert.Equal([(0L, 1L)], Drain(stream).Select(r => (r.WatchId, r.Header.Revision)));
        _f.Put("k", "1");
        Drain(stream);
        _f.Registry.NotifyProgress(stream);
        Assert.Empty(Drain(stream));
        _f.Registry.NotifyProgress(stream);
        Assert.Equal([(0L, 2L, 0)], Drain(stream).Select(r => (r.WatchId, r.Header.Revision, r.Events.Count)));
    }
}
