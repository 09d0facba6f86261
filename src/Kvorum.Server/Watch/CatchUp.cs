using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;

namespace Kvorum.Server.Watch;

/// <summary>
/// One batch of history for an unsynced watcher. The loop takes it: from the store's latest revisions when they reach
/// back to the watcher's next revision (<see cref="FromRecent"/>), which copies a few references and scans no key;
/// otherwise from the key index (<see cref="Take"/>), the watcher's keys and their versions as the histories share
/// them, which copies nothing. <see cref="Build"/> then turns either into at most
/// <see cref="MaxRevisions"/> revisions of events on any thread, while the store goes on changing; the shared slices
/// do not change (<see cref="KeyHistory.Share"/>). Only the loop hands the result over and decides whether the watcher
/// is synced (<see cref="WatcherRegistry"/>), so no event is lost or sent twice, whatever was committed meanwhile.
/// </summary>
internal sealed class CatchUp
{
    /// <summary>The most revisions one catch-up response carries, as etcd's <c>watchBatchMaxRevs</c>.</summary>
    public const int MaxRevisions = 1000;

    private readonly List<(ByteString Key, ReadOnlyMemory<KeyVersion> Versions)>? _slices;
    private readonly ArraySegment<(long Revision, IReadOnlyList<Event> Events)>? _recent;

    private CatchUp(Watcher watcher, long from, long to, List<(ByteString, ReadOnlyMemory<KeyVersion>)>? slices, ArraySegment<(long, IReadOnlyList<Event>)>? recent)
    {
        Watcher = watcher;
        From = from;
        To = to;
        _slices = slices;
        _recent = recent;
        Through = to;
    }

    /// <summary>The watcher caught up.</summary>
    public Watcher Watcher { get; }

    /// <summary>The first revision of the batch.</summary>
    public long From { get; }

    /// <summary>The store's revision when the batch was taken: the last revision it may hold.</summary>
    public long To { get; }

    /// <summary>The last revision the built response covers: <see cref="To"/>, or less when the batch was cut at <see cref="MaxRevisions"/>.</summary>
    public long Through { get; private set; }

    /// <summary>The events built, filtered as the watcher asked, or null when none passed; set by <see cref="Build"/>.</summary>
    public WatchResponse? Response { get; private set; }

    /// <summary>Takes the watcher's keys from <see cref="Watcher.NextRevision"/> to the store's revision. Loop only.</summary>
    public static CatchUp Take(Watcher watcher, MvccStore store)
    {
        ArgumentNullException.ThrowIfNull(watcher);
        ArgumentNullException.ThrowIfNull(store);
        var from = watcher.NextRevision;
        var slices = new List<(ByteString, ReadOnlyMemory<KeyVersion>)>();
        foreach (var history in store.Index.Scan(watcher.Range))
        {
            if (history.Newest is { } newest && newest.Revision.Main >= from)
                slices.Add((history.Key, history.Share()));
        }
        return new CatchUp(watcher, from, store.Revision, slices, null);
    }

    /// <summary>
    /// Takes the watcher's batch from <paramref name="recent"/> when it holds every revision from
    /// <see cref="Watcher.NextRevision"/> to the store's, <paramref name="to"/>; null when it does not. Loop only.
    /// </summary>
    public static CatchUp? FromRecent(Watcher watcher, RecentRevisions recent, long to)
    {
        ArgumentNullException.ThrowIfNull(watcher);
        ArgumentNullException.ThrowIfNull(recent);
        var from = watcher.NextRevision;
        return recent.TryTake(from, to, out var revisions) ? new CatchUp(watcher, from, to, null, revisions) : null;
    }

    /// <summary>True when the batch comes from the latest revisions rather than the key index.</summary>
    public bool IsFromRecent => _recent is not null;

    /// <summary>Builds the events of the batch, oldest first and in the order each revision made them. Any thread.</summary>
    public void Build()
    {
        var found = new List<(Revision Revision, Event Change)>();
        if (_recent is { } recent)
        {
            // Already in the order of the store's writes.
            foreach (var (revision, events) in recent)
            {
                for (var i = 0; i < events.Count; i++)
                {
                    if (Watcher.Range.Contains(events[i].Kv.Key.Span))
                        found.Add((new Revision(revision, i), events[i]));
                }
            }
        }
        else
        {
            foreach (var (key, memory) in _slices!)
                ChangeEvents.AddChanges(key, memory.Span, From, To, found);
            ChangeEvents.SortByRevision(found);
        }

        var response = new WatchResponse { WatchId = Watcher.Id };
        var revisions = 0;
        var last = 0L;
        foreach (var (revision, change) in found)
        {
            if (revision.Main != last)
            {
                if (++revisions > MaxRevisions)
                {
                    Through = last;
                    break;
                }
                last = revision.Main;
            }
            if (!Watcher.Wants(change))
                continue;
            response.Events.Add(Watcher.PrevKv || change.PrevKv is null ? change : new Event { Type = change.Type, Kv = change.Kv });
        }
        Response = response.Events.Count > 0 ? response : null;
    }
}
