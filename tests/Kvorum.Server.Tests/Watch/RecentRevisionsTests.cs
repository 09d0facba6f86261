using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Watch;

namespace Kvorum.Server.Tests.Watch;

/// <summary>
/// The run of latest revisions that catch-ups read instead of the key index: it holds an unbroken run ending at the
/// newest revision, within its bounds, and serves only a take that it covers whole.
/// </summary>
public sealed class RecentRevisionsTests
{
    private readonly RecentRevisions _recent = new();

    [Fact]
    public void The_run_keeps_the_latest_revisions_in_order_and_drops_the_oldest_past_its_bound()
    {
        var newest = RecentRevisions.MaxRevisions + 10L;
        for (var revision = 1L; revision <= newest; revision++)
            _recent.Add(revision, [Put("k", "v")]);
        Assert.Equal(RecentRevisions.MaxRevisions, _recent.Count);
        Assert.Equal((11L, newest), (_recent.Oldest, _recent.Newest));
        Assert.True(_recent.TryTake(11, newest, out var all));
        Assert.Equal(Enumerable.Range(11, RecentRevisions.MaxRevisions).Select(r => (long)r), all.Select(r => r.Revision));
        Assert.True(_recent.TryTake(newest, newest, out var last));
        Assert.Equal(newest, Assert.Single(last).Revision);
        Assert.False(_recent.TryTake(10, newest, out _));
    }

    [Fact]
    public void A_revision_that_does_not_follow_the_newest_starts_the_run_again()
    {
        for (var revision = 1L; revision <= 3; revision++)
            _recent.Add(revision, [Put("k", "v")]);
        _recent.Add(5, [Put("k", "v")]);
        Assert.Equal((1, 5L, 5L), (_recent.Count, _recent.Oldest, _recent.Newest));
        Assert.False(_recent.TryTake(3, 5, out _));
        Assert.True(_recent.TryTake(5, 5, out _));
    }

    [Fact]
    public void Only_a_take_that_ends_at_the_newest_revision_is_served()
    {
        for (var revision = 1L; revision <= 3; revision++)
            _recent.Add(revision, [Put("k", "v")]);
        Assert.False(_recent.TryTake(1, 2, out _)); // the store moved on without the run
        Assert.False(_recent.TryTake(1, 4, out _));
        Assert.True(_recent.TryTake(2, 3, out var taken));
        Assert.Equal([2L, 3L], taken.Select(r => r.Revision));
        _recent.Clear();
        Assert.False(_recent.TryTake(3, 3, out _));
    }

    [Fact]
    public void The_byte_bound_drops_the_oldest_revisions_and_a_take_stays_as_it_was()
    {
        var big = new string('x', 1 << 20);
        _recent.Add(1, [Put("k", big)]);
        Assert.True(_recent.TryTake(1, 1, out var taken));
        for (var revision = 2L; revision <= 20; revision++)
            _recent.Add(revision, [Put("k", big)]);
        Assert.True(_recent.Bytes <= RecentRevisions.MaxBytes);
        Assert.InRange(_recent.Count, 1, (int)(RecentRevisions.MaxBytes >> 20));
        Assert.Equal(20, _recent.Newest);
        Assert.Equal(1L, Assert.Single(taken).Revision); // a take is a copy: what came later does not change it
    }

    private static Event Put(string key, string value) => new()
    {
        Type = Event.Types.EventType.Put,
        Kv = new KeyValue { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
    };
}
