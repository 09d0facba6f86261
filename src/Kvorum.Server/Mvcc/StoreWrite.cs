using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Etcd.Keys;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// One write transaction on a <see cref="MvccStore"/>: every change it makes belongs to main
/// revision <see cref="BeginRevision"/> + 1, numbered by sub revision. Reads inside it see its own
/// changes. <see cref="Commit"/> makes the new revision current if anything changed;
/// <see cref="Rollback"/> removes every change as if the write had never started.
/// </summary>
internal sealed class StoreWrite
{
    private readonly MvccStore _store;
    private readonly List<Undo> _undo;
    private readonly List<Event>? _events;
    private long _nextSub;

    /// <param name="store">The store to write to.</param>
    /// <param name="recordEvents">Collect the changes as watch events for <see cref="Events"/>.</param>
    public StoreWrite(MvccStore store, bool recordEvents)
    {
        _store = store;
        // The store's one undo log, empty between writes (Commit and Rollback clear it): writes run one at a time,
        // on the apply thread, and a put then allocates no list of its own.
        _undo = store.UndoLog;
        System.Diagnostics.Debug.Assert(_undo.Count == 0, "one write at a time per store");
        _undo.Clear();
        BeginRevision = store.Revision;
        _events = recordEvents ? [] : null;
    }

    /// <summary>The changes made so far, when recording was asked for; otherwise empty.</summary>
    public IReadOnlyList<Event> Events => _events ?? [];

    /// <summary>The store revision when the write began.</summary>
    public long BeginRevision { get; }

    /// <summary>True once something has changed.</summary>
    public bool HasChanges => _nextSub > 0;

    /// <summary>The revision reads inside the write see, and that a write response reports.</summary>
    public long ReadRevision => HasChanges ? BeginRevision + 1 : BeginRevision;

    public RangeResponse Range(RangeRequest request) =>
        RangeQuery.Execute(_store.Index, request, ReadRevision, _store.CompactRevision);

    /// <exception cref="EtcdException">ignore_value or ignore_lease on a missing key.</exception>
    public PutResponse Put(PutRequest request)
    {
        var history = _store.Index.Find(request.Key);
        var previous = history?.Live;
        if ((request.IgnoreValue || request.IgnoreLease) && previous is null)
            throw new EtcdException(EtcdErrors.KeyNotFound);

        var response = new PutResponse();
        if (request.PrevKv && previous is { } shown)
            response.PrevKv = shown.ToKeyValue(request.Key);

        var value = request.IgnoreValue ? previous!.Value.Value : request.Value;
        var lease = request.IgnoreLease ? previous!.Value.Lease : request.Lease;
        var revision = new Revision(BeginRevision + 1, _nextSub++);

        history ??= _store.Index.GetOrAdd(request.Key);
        history.Append(new KeyVersion(
            revision,
            createRevision: previous?.CreateRevision ?? revision.Main,
            version: (previous?.Version ?? 0) + 1,
            value,
            lease,
            isTombstone: false));
        Record(history, previous?.Lease ?? 0, lease);

        response.Header = new ResponseHeader { Revision = ReadRevision };
        return response;
    }

    public DeleteRangeResponse DeleteRange(DeleteRangeRequest request)
    {
        var live = new List<(KeyHistory History, KeyVersion Version)>();
        foreach (var history in _store.Index.Scan(KeyRange.FromRequest(request.Key, request.RangeEnd)))
        {
            if (history.Live is { } version)
                live.Add((history, version));
        }

        var response = new DeleteRangeResponse { Deleted = live.Count };
        foreach ((var history, var previous) in live)
        {
            if (request.PrevKv)
                response.PrevKvs.Add(previous.ToKeyValue(history.Key));
            history.Append(KeyVersion.Tombstone(new Revision(BeginRevision + 1, _nextSub++)));
            Record(history, previous.Lease, 0);
        }
        response.Header = new ResponseHeader { Revision = ReadRevision };
        return response;
    }

    /// <summary>Makes the write's revision current, if it changed anything.</summary>
    public void Commit()
    {
        if (HasChanges)
            _store.AdvanceRevision(BeginRevision + 1);
        _undo.Clear();
    }

    /// <summary>Removes every change of this write, newest first.</summary>
    public void Rollback()
    {
        for (var i = _undo.Count - 1; i >= 0; i--)
        {
            var undo = _undo[i];
            _store.Leases.Detach(undo.NewLease, undo.History.Key);
            _store.Leases.Attach(undo.OldLease, undo.History.Key);
            undo.History.TruncateFrom(BeginRevision + 1);
            if (undo.History.IsEmpty)
                _store.Index.Remove(undo.History.Key);
        }
        _undo.Clear();
        _events?.Clear();
        _nextSub = 0;
    }

    private void Record(KeyHistory history, long oldLease, long newLease)
    {
        if (oldLease != newLease)
        {
            _store.Leases.Detach(oldLease, history.Key);
            _store.Leases.Attach(newLease, history.Key);
        }
        _undo.Add(new Undo(history, oldLease, newLease));
        _events?.Add(ChangeEvents.At(history, history.Versions.Length - 1));
    }

    /// <summary>What <see cref="Rollback"/> needs to undo one change.</summary>
    internal readonly record struct Undo(KeyHistory History, long OldLease, long NewLease);
}
