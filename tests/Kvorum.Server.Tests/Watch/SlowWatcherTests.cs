using Kvorum.Etcd.Api;
using Kvorum.Server.Watch;
using static Kvorum.Server.Tests.Watch.RegistryFixture;

namespace Kvorum.Server.Tests.Watch;

/// <summary>
/// Watchers whose streams do not keep up, many watchers on one key, and compaction while a watcher catches up: the
/// store never waits, a stream's queue stays bounded, and each watcher still gets every event once, in order.
/// </summary>
public sealed class SlowWatcherTests
{
    private readonly RegistryFixture _f = new();

    [Fact]
    public void A_stalled_stream_holds_at_most_its_bound_and_later_gets_every_event_exactly_once()
    {
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("k"));
        const int puts = 1000;
        for (var i = 0; i < puts; i++)
            _f.Put("k", $"v{i}");
        // Nothing was sent meanwhile: the watcher holds its bound and was moved aside.
        Assert.Equal(1, _f.Registry.UnsyncedCount);
        Assert.Equal(1, _f.Registry.Overflows);

        var revisions = new List<long>();
        for (var round = 0; round < 10 && _f.Registry.UnsyncedCount > 0; round++)
        {
            revisions.AddRange(Drain(stream).SelectMany(r => r.Events).Select(e => e.Kv.ModRevision));
            _f.RunCatchUp();
            _f.Put("k", $"late{round}");
        }
        revisions.AddRange(Drain(stream).SelectMany(r => r.Events).Select(e => e.Kv.ModRevision));
        Assert.Equal(0, _f.Registry.UnsyncedCount);
        Assert.Equal(Enumerable.Range(2, (int)_f.Store.Revision - 1).Select(r => (long)r), revisions);
    }

    [Fact]
    public void The_queue_of_a_stalled_stream_never_passes_the_bound()
    {
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("k"));
        for (var i = 0; i < 5000; i++)
            _f.Put("k", "v");
        Assert.Equal(1 + WatcherRegistry.MaxPendingResponses, Drain(stream).Count);
    }

    [Fact]
    public void A_watcher_far_behind_catches_up_in_batches_of_at_most_1000_revisions()
    {
        for (var i = 0; i < 2500; i++)
            _f.Put("k", "v");
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("k", start: 1));
        var sizes = new List<int>();
        while (_f.Registry.UnsyncedCount > 0)
        {
            _f.RunCatchUp();
            sizes.AddRange(Drain(stream).Where(r => !r.Created).Select(r => r.Events.Count));
        }
        Assert.Equal([1000, 1000, 500], sizes);
    }

    [Fact]
    public void A_compaction_while_a_watcher_catches_up_cancels_it_with_the_compaction_revision()
    {
        for (var i = 0; i < 2500; i++)
            _f.Put("k", "v");
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("k", start: 1));
        _f.BuildCatchUpOnly();
        _f.Compact(2000); // after the first batch was built, before it is handed over
        _f.HandOver();
        var sent = Drain(stream); // the stream sends the batch, and the watcher is picked again
        _f.RunCatchUp();
        sent.AddRange(Drain(stream));
        Assert.Equal(1000, sent[1].Events.Count); // the batch built before the compaction is whole
        Assert.Equal([2L, 1001], [sent[1].Events[0].Kv.ModRevision, sent[1].Events[^1].Kv.ModRevision]);
        var cancel = sent[^1];
        Assert.True(cancel.Canceled);
        Assert.Equal((2000L, 0L), (cancel.CompactRevision, cancel.Header.Revision));
        Assert.Equal(0, _f.Registry.UnsyncedCount + _f.Registry.SyncedCount);
    }

    [Fact]
    public void Five_thousand_watchers_on_one_key_each_get_each_event_once()
    {
        var streams = Enumerable.Range(0, 10).Select(_ => _f.Open()).ToList();
        foreach (var stream in streams)
        {
            for (var i = 0; i < 500; i++)
                _f.Registry.Create(stream, Create("hot"));
        }
        for (var i = 0; i < 20; i++)
            _f.Put("hot", $"{i}");
        _f.Put("cold", "x");
        var perWatcher = streams.SelectMany((s, n) => Drain(s).Where(r => !r.Created).SelectMany(r => r.Events.Select(e => (Watcher: (n, r.WatchId), e.Kv.ModRevision))))
            .GroupBy(x => x.Watcher)
            .ToList();
        Assert.Equal(5000, perWatcher.Count);
        Assert.All(perWatcher, g => Assert.Equal(Enumerable.Range(2, 20).Select(r => (long)r), g.Select(x => x.ModRevision)));
    }

    [Fact]
    public void A_closed_stream_leaves_no_watcher_behind_and_the_store_records_no_events_without_watchers()
    {
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("k"));
        _f.Registry.Create(stream, Create("k", start: 1));
        _f.Registry.Close(stream);
        Assert.Equal(0, _f.Registry.SyncedCount + _f.Registry.UnsyncedCount);
        _f.Put("k", "v");
        Assert.Single(Drain(stream).Where(r => r.Created).Take(1));
        Assert.Empty(Drain(stream));
    }

    [Fact]
    public void Fragments_split_a_response_over_the_limit_and_mark_all_but_the_last()
    {
        var response = new WatchResponse { Header = new ResponseHeader { Revision = 9 }, WatchId = 3 };
        for (var i = 0; i < 3; i++)
            response.Events.Add(new Event { Kv = new KeyValue { Key = Google.Protobuf.ByteString.CopyFromUtf8($"k{i}"), Value = Google.Protobuf.ByteString.CopyFrom(new byte[1000]) } });
        var fragments = Kvorum.Server.Api.WatchFragments.Split(response, 2100).ToList();
        Assert.Equal([(2, true), (1, false)], fragments.Select(f => (f.Events.Count, f.Fragment)));
        Assert.All(fragments, f => Assert.True(f.WatchId == 3 && f.Header.Revision == 9 && f.CalculateSize() < 2100));
        var single = Kvorum.Server.Api.WatchFragments.Split(response, 500).ToList();
        Assert.Equal(3, single.Count); // one event over the limit goes whole
    }
}
