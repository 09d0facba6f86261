using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Keys;
using Kvorum.Server.Watch;
using static Kvorum.Server.Tests.Watch.RegistryFixture;

namespace Kvorum.Server.Tests.Watch;

/// <summary>
/// Catch-ups served from the latest revisions rather than the key index: they give exactly what the history gives
/// (events, their order within a revision, prev_kv), hand over to the index for what is older, and never read
/// revisions from before an installed snapshot.
/// </summary>
public sealed class RecentCatchUpTests
{
    private readonly RegistryFixture _f = new();

    [Fact]
    public void Watchers_starting_at_recent_revisions_get_from_the_recent_run_exactly_what_the_history_gives()
    {
        var keeper = _f.Open();
        // With a watcher behind (its catch-up not run yet), the registry keeps the latest revisions.
        _f.Registry.Create(keeper, Create("zzz", start: 1));
        var random = new Random(21);
        for (var i = 0; i < 300; i++)
        {
            var key = $"k{random.Next(8)}";
            switch (random.Next(6))
            {
                case 0:
                    _f.Delete(key);
                    break;
                case 1: // several keys in one revision
                    _f.Store.DeleteRange(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("k2"), RangeEnd = ByteString.CopyFromUtf8("k5") });
                    break;
                default:
                    _f.Put(key, $"v{i}");
                    break;
            }
        }
        var first = _f.Store.Revision - 250;
        var stream = _f.Open();
        var starts = new[] { first, first + 1, first + 100, _f.Store.Revision };
        foreach (var start in starts)
        {
            var request = Create("k1", "k6", start: start);
            request.PrevKv = true;
            _f.Registry.Create(stream, request);
        }
        _f.RunCatchUp();
        Assert.Equal(starts.Length, _f.Registry.CatchUpsFromRecent);
        Assert.Equal(0, _f.Registry.UnsyncedCount);

        var sent = Drain(stream).Where(r => !r.Created).ToList();
        for (var id = 0; id < starts.Length; id++)
        {
            var expected = _f.Store.GetEvents(KeyRange.FromRequest(ByteString.CopyFromUtf8("k1"), ByteString.CopyFromUtf8("k6")), starts[id]);
            Assert.NotEmpty(expected);
            Assert.Equal(expected, sent.Where(r => r.WatchId == id).SelectMany(r => r.Events));
        }
    }

    [Fact]
    public void A_watcher_older_than_the_recent_run_catches_up_from_the_index_then_from_the_run_without_a_gap()
    {
        var keeper = _f.Open();
        _f.Registry.Create(keeper, Create("zzz"));
        for (var i = 0; i < 2000; i++)
            _f.Put("k", $"v{i}");
        Assert.True(_f.Registry.RecentCount < 2000);
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("k", start: 2));
        var revisions = new List<long>();
        for (var round = 0; round < 5 && _f.Registry.UnsyncedCount > 0; round++)
        {
            _f.RunCatchUp();
            _f.Put("k", $"late{round}"); // the store moves on between passes
            revisions.AddRange(Drain(stream).Where(r => r.WatchId == 0 && !r.Created).SelectMany(r => r.Events).Select(e => e.Kv.ModRevision));
        }
        Assert.Equal(0, _f.Registry.UnsyncedCount);
        Assert.True(_f.Registry.CatchUpsFromRecent >= 1);
        Assert.Equal(Enumerable.Range(2, (int)_f.Store.Revision - 1).Select(r => (long)r), revisions);
    }

    [Fact]
    public void An_installed_snapshot_empties_the_recent_run_and_without_watchers_none_is_kept()
    {
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("k", start: 1));
        _f.Put("k", "1");
        _f.Put("k", "2");
        Assert.Equal(2, _f.Registry.RecentCount);
        _f.Registry.BeforeRestore();
        Assert.Equal(0, _f.Registry.RecentCount);
        _f.Put("k", "3");
        Assert.Equal(1, _f.Registry.RecentCount);
        _f.Registry.Close(stream);
        Assert.Equal(0, _f.Registry.RecentCount);
    }

    [Fact]
    public void A_watcher_behind_gets_each_next_batch_as_soon_as_its_stream_has_sent_the_last_without_waiting_for_a_pass()
    {
        for (var i = 0; i < 2500; i++)
            _f.Put("k", "v");
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("k", start: 1));
        var sizes = new List<int>();
        for (var round = 0; round < 10 && _f.Registry.UnsyncedCount > 0; round++)
        {
            _f.RunPosted(); // no CatchUpPass: only what the registry and the writer posted
            sizes.AddRange(_f.Send(stream).Where(r => !r.Created).Select(r => r.Events.Count));
        }
        Assert.Equal(0, _f.Registry.UnsyncedCount);
        Assert.Equal([1000, 1000, 500], sizes);
    }

    [Fact]
    public void An_overflowed_watcher_catches_up_once_its_stream_drains_and_gets_every_event_exactly_once()
    {
        var stream = _f.Open();
        _f.Registry.Create(stream, Create("k"));
        for (var i = 0; i < 1000; i++)
            _f.Put("k", $"v{i}");
        Assert.Equal(1, _f.Registry.Overflows);
        var revisions = new List<long>();
        for (var round = 0; round < 10 && _f.Registry.UnsyncedCount > 0; round++)
        {
            revisions.AddRange(_f.Send(stream).SelectMany(r => r.Events).Select(e => e.Kv.ModRevision));
            _f.RunPosted();
            _f.Put("k", $"late{round}");
        }
        revisions.AddRange(_f.Send(stream).SelectMany(r => r.Events).Select(e => e.Kv.ModRevision));
        Assert.Equal(0, _f.Registry.UnsyncedCount);
        Assert.True(_f.Registry.CatchUpsFromRecent >= 1); // the overflow was recent: no scan of the index
        Assert.Equal(Enumerable.Range(2, (int)_f.Store.Revision - 1).Select(r => (long)r), revisions);
    }

    [Fact]
    public void Between_two_passes_at_most_a_pass_worth_of_watchers_is_caught_up_on_drain_and_the_next_pass_takes_the_rest()
    {
        _f.Put("k", "1");
        _f.Put("k", "2");
        var stream = _f.Open();
        var watchers = WatcherRegistry.MaxWatchersPerPass + 100;
        for (var i = 0; i < watchers; i++)
            _f.Registry.Create(stream, Create("k", start: 2));
        _f.RunPosted();
        Assert.Equal(100, _f.Registry.UnsyncedCount);
        Assert.Equal(WatcherRegistry.MaxWatchersPerPass, _f.Send(stream).Count(r => r.Events.Count > 0));
        _f.RunCatchUp();
        Assert.Equal(0, _f.Registry.UnsyncedCount);
        Assert.Equal(100, _f.Send(stream).Count(r => r.Events.Count > 0));
    }
}
