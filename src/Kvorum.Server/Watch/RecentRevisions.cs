using Kvorum.Etcd.Api;

namespace Kvorum.Server.Watch;

/// <summary>
/// The events of the store's latest revisions, as they were committed (prev_kv included), oldest first: a watcher
/// whose next revision is among them catches up from here (<see cref="CatchUp.FromRecent"/>) instead of from a scan
/// of the key index. It holds an unbroken run of revisions ending at the newest one it was given: a revision that
/// does not follow the newest starts the run again, so a run never has a hole. It is bounded in revisions and bytes,
/// dropping the oldest first, and the registry keeps it only while some watcher is behind: otherwise it holds just
/// the revision being handed over (<see cref="WatcherRegistry.OnCommitted"/>).
/// </summary>
/// <remarks>
/// Owned by the member loop (<see cref="Node.LoopOwner"/>) through its <see cref="WatcherRegistry"/>. The event
/// lists are the store's, which it never changes once committed, so what <see cref="TryTake"/> returns can be read
/// on another thread while the run goes on.
/// </remarks>
internal sealed class RecentRevisions
{
    /// <summary>Revisions kept at most: a catch-up batch's worth.</summary>
    public const int MaxRevisions = 1024;

    /// <summary>Bytes of events kept at most, about (keys and values, with prev_kv).</summary>
    public const long MaxBytes = 8L << 20;

    private readonly (long Revision, IReadOnlyList<Event> Events, long Bytes)[] _ring = new (long, IReadOnlyList<Event>, long)[MaxRevisions];
    private (long Revision, IReadOnlyList<Event> Events)[]? _copy;
    private int _first;
    private int _count;
    private long _bytes;

    /// <summary>Revisions held.</summary>
    public int Count => _count;

    /// <summary>The oldest revision held; meaningless when <see cref="Count"/> is 0.</summary>
    public long Oldest => _ring[_first].Revision;

    /// <summary>The newest revision held; meaningless when <see cref="Count"/> is 0.</summary>
    public long Newest => _ring[(_first + _count - 1) % MaxRevisions].Revision;

    /// <summary>Bytes held, about.</summary>
    public long Bytes => _bytes;

    /// <summary>
    /// Adds the events of <paramref name="revision"/>; a revision that does not follow the newest held drops
    /// everything held first, and the oldest go while the bounds are passed.
    /// </summary>
    public void Add(long revision, IReadOnlyList<Event> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (_count > 0 && revision != Newest + 1)
            Clear();
        var bytes = 0L;
        foreach (var change in events)
            bytes += SizeOf(change);
        while (_count > 0 && (_count == MaxRevisions || _bytes + bytes > MaxBytes))
            DropOldest();
        _copy = null;
        _ring[(_first + _count) % MaxRevisions] = (revision, events, bytes);
        _count++;
        _bytes += bytes;
    }

    /// <summary>Drops everything held: the store's history is no longer the one the revisions came from, or no longer recorded.</summary>
    public void Clear()
    {
        // Only the slots held: the registry clears a run of one revision on every commit while no watcher is behind.
        for (var i = 0; i < _count; i++)
            _ring[(_first + i) % MaxRevisions] = default;
        _copy = null;
        _first = 0;
        _count = 0;
        _bytes = 0;
    }

    /// <summary>
    /// The revisions from <paramref name="from"/> to <paramref name="to"/> with their events, oldest first, when the
    /// run holds every one of them and <paramref name="to"/> is its newest; otherwise false, and the caller reads the
    /// history instead. The segment is never written again, so it may be read on another thread.
    /// </summary>
    public bool TryTake(long from, long to, out ArraySegment<(long Revision, IReadOnlyList<Event> Events)> revisions)
    {
        revisions = default;
        if (_count == 0 || from < Oldest || from > to || Newest != to)
            return false;
        // One copy of the run serves every watcher that catches up before the next revision comes.
        if (_copy is null)
        {
            _copy = new (long, IReadOnlyList<Event>)[_count];
            for (var i = 0; i < _count; i++)
            {
                var entry = _ring[(_first + i) % MaxRevisions];
                _copy[i] = (entry.Revision, entry.Events);
            }
        }
        var skip = (int)(from - Oldest);
        revisions = new ArraySegment<(long, IReadOnlyList<Event>)>(_copy, skip, _count - skip);
        return true;
    }

    private void DropOldest()
    {
        _bytes -= _ring[_first].Bytes;
        _ring[_first] = default;
        _first = (_first + 1) % MaxRevisions;
        _count--;
    }

    private static long SizeOf(Event change)
    {
        // Keys and values dominate; the fixed part stands for the revisions, lengths and object headers.
        const long Fixed = 64;
        var size = Fixed + change.Kv.Key.Length + change.Kv.Value.Length;
        if (change.PrevKv is { } prev)
            size += Fixed + prev.Key.Length + prev.Value.Length;
        return size;
    }
}
