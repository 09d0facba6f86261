using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Etcd.Keys;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;

namespace Kvorum.Server.Watch;

/// <summary>
/// Every watcher of a member, as etcd's watchable store keeps them: the synced ones, handed each revision as the store
/// commits it (<see cref="OnCommitted"/>), by key for single keys and by range for ranges (<see cref="RangeWatchers"/>); and the unsynced ones,
/// behind the store, which catch up from the history a batch at a time (<see cref="CatchUpPass"/>, <see cref="CatchUp"/>),
/// read from the latest revisions' events (<see cref="RecentRevisions"/>) when they reach back far enough.
/// Nothing here waits for a client: a synced watcher whose stream has more than its bound queued is moved to the
/// unsynced set at the revision it could not take, and catches up from there once its stream has drained.
/// </summary>
/// <remarks>
/// Owned by the member loop (<see cref="LoopOwner"/>), which applies the writes it watches, so a watcher moves
/// between the sets only between two commits, and none is ever handed a revision twice or skips one. Catch-up batches
/// are built on another thread (<c>runOffLoop</c>) and handed back through <c>postToLoop</c>.
/// </remarks>
internal sealed partial class WatcherRegistry
{
    /// <summary>Responses a watcher may have queued and unsent before it is moved aside: etcd's stream buffer (<c>chanBufLen</c>).</summary>
    public const int MaxPendingResponses = 128;

    /// <summary>Bytes a watcher may have queued and unsent before it is moved aside (one response is always let through).</summary>
    public const long MaxPendingBytes = 8L << 20;

    /// <summary>Unsynced watchers one pass looks at, as etcd's <c>maxWatchersPerSync</c>.</summary>
    public const int MaxWatchersPerPass = 512;

    private readonly MvccStore _store;
    private readonly Action<Action> _runOffLoop;
    private readonly Action<Action> _postToLoop;
    private readonly LoopOwner _owner;
    private readonly HashSet<WatchStream> _streams = [];
    private readonly Dictionary<ByteString, HashSet<Watcher>> _syncedByKey = [];
    private readonly RangeWatchers _syncedRanges = new();
    private readonly List<HashSet<Watcher>> _rangeGroups = [];
    private readonly HashSet<Watcher> _unsynced = [];
    private readonly List<Watcher> _gathering = [];
    private readonly List<Watcher> _picked = [];
    private readonly RecentRevisions _recent = new();
    private readonly CommitEvents _commitEvents = new();
    private int _count;
    private int _drainedSincePass;
    private bool _subscribed;
    private EtcdError? _closedWith;

    /// <summary>Creates the registry of <paramref name="store"/>'s watchers.</summary>
    /// <param name="store">The store whose commits are watched.</param>
    /// <param name="runOffLoop">Runs catch-up work off the loop (the thread pool in a member).</param>
    /// <param name="postToLoop">Runs work on the loop (the member's inbox).</param>
    /// <param name="owner">The loop that owns it; a test passes none.</param>
    public WatcherRegistry(MvccStore store, Action<Action> runOffLoop, Action<Action> postToLoop, LoopOwner? owner = null)
    {
        _store = store;
        _runOffLoop = runOffLoop;
        _postToLoop = postToLoop;
        _owner = owner ?? new LoopOwner();
    }

    /// <summary>Watchers that get each revision as it is committed.</summary>
    public int SyncedCount => _syncedRanges.Count + _syncedByKey.Values.Sum(s => s.Count);

    /// <summary>Watchers behind the store.</summary>
    public int UnsyncedCount => _unsynced.Count;

    /// <summary>Times a synced watcher was moved aside because its stream could not take more.</summary>
    public long Overflows { get; private set; }

    /// <summary>Catch-up batches taken from the latest revisions (<see cref="RecentRevisions"/>) rather than the key index.</summary>
    public long CatchUpsFromRecent { get; private set; }

    /// <summary>Revisions held for catch-ups without a scan.</summary>
    public int RecentCount => _recent.Count;

    /// <summary>Starts serving <paramref name="stream"/>; ends it at once if the registry is closed.</summary>
    public void Open(WatchStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _owner.AssertOwned();
        if (_closedWith is not null)
        {
            stream.Closed = true;
            stream.End(_closedWith);
            return;
        }
        _streams.Add(stream);
    }

    /// <summary>The stream's client left: its watchers go.</summary>
    public void Close(WatchStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _owner.AssertOwned();
        stream.Closed = true;
        foreach (var watcher in stream.Watchers.Values)
            Remove(watcher);
        stream.Watchers.Clear();
        _streams.Remove(stream);
        stream.End(null);
    }

    /// <summary>Ends every stream with <paramref name="error"/> (the member stops), and every stream opened later.</summary>
    public void CloseAll(EtcdError error)
    {
        _owner.AssertOwned();
        _closedWith = error;
        foreach (var stream in _streams)
        {
            stream.Closed = true;
            foreach (var watcher in stream.Watchers.Values)
                Remove(watcher);
            stream.Watchers.Clear();
            stream.End(error);
        }
        _streams.Clear();
    }

    /// <summary>
    /// Registers a watch with etcd's checks and answers: a negative start revision, an empty range or a duplicate id
    /// is refused with <c>created</c> and <c>canceled</c> and watch id -1; otherwise <c>created</c> is queued before
    /// anything else of the watcher, with the store's revision.
    /// </summary>
    public void Create(WatchStream stream, WatchCreateRequest request)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(request);
        _owner.AssertOwned();
        if (stream.Closed)
            return;
        var revision = _store.Revision;
        var key = request.Key.IsEmpty ? ByteString.CopyFrom(0) : request.Key;
        var range = KeyRange.FromRequest(key, request.RangeEnd);
        // Later etcd's answer (3.4.38, 3.5.33) to a negative start, rather than 3.4.23's created-then-compacted.
        if (request.StartRevision < 0)
        {
            stream.Send(Refused(revision, EtcdErrors.Compacted));
            return;
        }
        if (range.End is { } end && ByteKeyComparer.Compare(key.Span, end.Span) >= 0)
        {
            stream.Send(Refused(revision, EtcdErrors.WatchRangeEmpty));
            return;
        }
        long id;
        if (request.WatchId == 0)
        {
            while (stream.Watchers.ContainsKey(stream.NextAutoId))
                stream.NextAutoId++;
            id = stream.NextAutoId++;
        }
        else if (stream.Watchers.ContainsKey(request.WatchId))
        {
            stream.Send(Refused(revision, EtcdErrors.WatchDuplicateId));
            return;
        }
        else
        {
            id = request.WatchId;
        }

        var next = request.StartRevision == 0 ? revision + 1 : request.StartRevision;
        var watcher = new Watcher(stream, id, range, request, next);
        stream.Watchers.Add(id, watcher);
        stream.Send(new WatchResponse { Header = new ResponseHeader { Revision = revision }, WatchId = id, Created = true });
        _count++;
        Subscribe();
        if (next > revision)
        {
            AddSynced(watcher);
        }
        else
        {
            // Its history is taken at once rather than at the next pass.
            _unsynced.Add(watcher);
            _postToLoop(() => CatchUpDrained(watcher));
        }
    }

    /// <summary>Cancels a watch: answered with <c>canceled</c> and the store's revision; an unknown id gets no answer, as in etcd.</summary>
    public void Cancel(WatchStream stream, long watchId)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _owner.AssertOwned();
        if (!stream.Watchers.Remove(watchId, out var watcher))
            return;
        Remove(watcher);
        stream.Send(new WatchResponse { Header = new ResponseHeader { Revision = _store.Revision }, WatchId = watchId, Canceled = true });
    }

    /// <summary>
    /// A progress_request: answered with watch id -1 and the store's revision, only when every watcher of the stream is
    /// synced and the store has reached each one's start, so the revision reported has all its events queued before it
    /// (the rule of etcd 3.4.25 and later). A stream without watchers gets nothing.
    /// </summary>
    public void RequestProgress(WatchStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _owner.AssertOwned();
        if (stream.Closed || stream.Watchers.Count == 0)
            return;
        var revision = _store.Revision;
        foreach (var watcher in stream.Watchers.Values)
        {
            if (!watcher.Synced || watcher.NextRevision > revision + 1)
                return;
        }
        stream.Send(new WatchResponse { Header = new ResponseHeader { Revision = revision }, WatchId = -1 });
    }

    /// <summary>
    /// The stream's progress interval passed: each synced progress_notify watcher gets an empty response with the
    /// store's revision, except one that was sent events since the last interval.
    /// </summary>
    public void NotifyProgress(WatchStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _owner.AssertOwned();
        var revision = _store.Revision;
        foreach (var watcher in stream.Watchers.Values)
        {
            if (!watcher.ProgressNotify || !watcher.Synced)
                continue;
            if (watcher.HadEventsSinceProgress)
            {
                watcher.HadEventsSinceProgress = false;
                continue;
            }
            if (watcher.NextRevision <= revision + 1)
                stream.Send(new WatchResponse { Header = new ResponseHeader { Revision = revision }, WatchId = watcher.Id });
        }
    }

    /// <summary>
    /// The store is about to be replaced by a snapshot: every synced watcher has been handed all up to the current
    /// revision, and catches up from the next one out of the new state.
    /// </summary>
    public void BeforeRestore()
    {
        _owner.AssertOwned();
        _recent.Clear();
        var revision = _store.Revision;
        foreach (var watcher in _syncedRanges.All.Concat(_syncedByKey.Values.SelectMany(s => s)).ToList())
        {
            watcher.NextRevision = Math.Max(watcher.NextRevision, revision + 1);
            MoveToUnsynced(watcher);
        }
    }

    private static WatchResponse Refused(long revision, EtcdError reason) => new()
    {
        Header = new ResponseHeader { Revision = revision },
        WatchId = -1,
        Created = true,
        Canceled = true,
        CancelReason = reason.Message,
    };

    private void AddSynced(Watcher watcher)
    {
        watcher.Synced = true;
        if (watcher.Range.IsSingleKey)
        {
            if (!_syncedByKey.TryGetValue(watcher.Range.Begin, out var set))
                _syncedByKey.Add(watcher.Range.Begin, set = []);
            set.Add(watcher);
        }
        else
        {
            _syncedRanges.Add(watcher);
        }
    }

    private void RemoveSynced(Watcher watcher)
    {
        watcher.Synced = false;
        if (!watcher.Range.IsSingleKey)
        {
            _syncedRanges.Remove(watcher);
        }
        else if (_syncedByKey.TryGetValue(watcher.Range.Begin, out var set))
        {
            set.Remove(watcher);
            if (set.Count == 0)
                _syncedByKey.Remove(watcher.Range.Begin);
        }
    }

    private void MoveToUnsynced(Watcher watcher)
    {
        RemoveSynced(watcher);
        _unsynced.Add(watcher);
    }

    private void Remove(Watcher watcher)
    {
        if (watcher.Removed)
            return;
        watcher.Removed = true;
        if (watcher.Synced)
            RemoveSynced(watcher);
        else
            _unsynced.Remove(watcher);
        _count--;
        if (_count == 0 && _subscribed)
        {
            // Without watchers the store records no events: a write then builds nothing for them.
            _store.Committed -= OnStoreCommitted;
            _subscribed = false;
            _recent.Clear();
        }
    }

    private void Subscribe()
    {
        if (_subscribed)
            return;
        _store.Committed += OnStoreCommitted;
        _subscribed = true;
    }

    private void OnStoreCommitted(object? sender, MvccCommittedEventArgs e) => OnCommitted(e.Revision, e.Events);
}
