using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Etcd.Keys;
using Kvorum.Etcd.Requests;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// etcd's multi-version key-value store as a deterministic, single-threaded state machine: it
/// takes the etcd request messages and returns the etcd responses, independent of Raft and gRPC.
/// </summary>
/// <remarks>
/// <para>The store revision starts at 1 for the empty store; every put, every delete that removes
/// something, and every txn that writes advances it by exactly one, so the first put gets
/// revision 2. Each key carries its create revision, mod revision and version; a delete leaves a
/// tombstone and the next put starts again at version 1 with a new create revision.</para>
/// <para>Only the header's revision is set in responses; the server fills in cluster, member and
/// term. Errors are thrown as <see cref="EtcdException"/> with etcd's message and status code; a
/// request that fails changes nothing.</para>
/// <para>Not thread-safe: Raft applies entries one at a time, and reads must be serialised with them.</para>
/// </remarks>
internal sealed class MvccStore
{
    /// <summary>Creates an empty store at revision 1.</summary>
    public MvccStore()
    {
    }

    /// <summary>The current store revision: 1 when empty, then the revision of the latest write.</summary>
    public long Revision { get; private set; } = 1;

    /// <summary>The revision of the last compaction; -1 until the first, as in etcd.</summary>
    public long CompactRevision { get; private set; } = -1;

    /// <summary>Number of keys with history kept, deleted ones included until compacted away.</summary>
    public int KeyCount => Index.Count;

    /// <summary>
    /// The store's size as the backend quota measures it (<c>--quota-backend-bytes</c>): the keys and values of
    /// every version kept, plus <see cref="KeyIndex.EntryOverhead"/> bytes each. A compaction lowers it at once.
    /// </summary>
    public long SizeBytes => Index.Bytes;

    /// <summary>
    /// Says whether a lease exists; puts naming a lease for which it returns false fail with
    /// etcd's "requested lease not found". Null (the default) accepts every lease.
    /// </summary>
    public Func<long, bool>? LeaseExists { get; set; }

    /// <summary>The most compares, success ops or failure ops a txn may have.</summary>
    public int MaxTxnOps { get; set; } = RequestValidator.DefaultMaxTxnOps;

    /// <summary>Which live keys each lease holds.</summary>
    public LeaseAttachments Leases { get; } = new();

    internal KeyIndex Index { get; } = new();

    /// <summary>
    /// Raised after every write that created a revision, with its changes as watch events. Raised
    /// synchronously on the applying thread; handlers must not modify the store.
    /// </summary>
    public event EventHandler<MvccCommittedEventArgs>? Committed;

    /// <summary>
    /// Every change to a key in <paramref name="range"/> at or after <paramref name="startRevision"/>
    /// still in the history, oldest first: what a watcher that starts in the past must be sent.
    /// </summary>
    /// <param name="range">The watched keys.</param>
    /// <param name="startRevision">The first revision wanted, at least 1.</param>
    /// <returns>The events, each with its prev_kv when that version is still kept.</returns>
    /// <exception cref="EtcdException">The start revision is before the last compaction.</exception>
    public IReadOnlyList<Event> GetEvents(KeyRange range, long startRevision)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(startRevision, 1);
        if (startRevision < CompactRevision)
            throw new EtcdException(EtcdErrors.Compacted);
        return ChangeEvents.Since(Index, range, startRevision);
    }

    /// <summary>Reads keys, now or at an older revision.</summary>
    /// <param name="request">The range request.</param>
    /// <returns>The matching keys.</returns>
    /// <exception cref="EtcdException">Empty key, or a compacted or future revision.</exception>
    public RangeResponse Range(RangeRequest request)
    {
        RequestValidator.Validate(request);
        return RangeQuery.Execute(Index, request, Revision, CompactRevision);
    }

    /// <summary>Writes one key at a new revision.</summary>
    /// <param name="request">The put request.</param>
    /// <returns>The new revision and, when asked for, the previous value.</returns>
    /// <exception cref="EtcdException">Invalid request, unknown lease, or ignore_value/ignore_lease on a missing key.</exception>
    public PutResponse Put(PutRequest request)
    {
        RequestValidator.Validate(request);
        CheckLease(request.Lease);
        return Write(request, static (write, put) => write.Put(put));
    }

    /// <summary>Deletes the keys in a range; a new revision only if something was deleted.</summary>
    /// <param name="request">The delete request.</param>
    /// <returns>How many keys were deleted and, when asked for, their last values.</returns>
    /// <exception cref="EtcdException">Empty key.</exception>
    public DeleteRangeResponse DeleteRange(DeleteRangeRequest request)
    {
        RequestValidator.Validate(request);
        return Write(request, static (write, delete) => write.DeleteRange(delete));
    }

    /// <summary>
    /// Deletes every key attached to <paramref name="lease"/>, in key order, in one write: one new revision, or none
    /// when the lease holds no key. What revoking or expiring a lease does to the store; the lease table is not the
    /// store's (<see cref="Lease.Lessor"/>).
    /// </summary>
    /// <param name="lease">The lease id.</param>
    /// <returns>How many keys were deleted.</returns>
    public int RevokeLease(long lease)
    {
        var keys = Leases.KeysOf(lease);
        if (keys.Count == 0)
            return 0;
        return Write(keys, static (write, keys) =>
        {
            foreach (var key in keys)
                write.DeleteRange(new DeleteRangeRequest { Key = key });
            return keys.Count;
        });
    }

    /// <summary>
    /// Runs a transaction: evaluates the compares (and those of nested txns) against the current
    /// state, then runs the chosen ops in order. All writes share one new revision.
    /// </summary>
    /// <param name="request">The txn request.</param>
    /// <returns>Whether the compares held and the response of each op run.</returns>
    /// <exception cref="EtcdException">Invalid txn, or an op on the chosen path would fail.</exception>
    public TxnResponse Txn(TxnRequest request)
    {
        RequestValidator.Validate(request, MaxTxnOps);
        var path = TxnEvaluator.ChoosePath(Index, Revision, request);
        CheckPath(request, path);

        var write = new StoreWrite(this, Committed is not null);
        TxnResponse response;
        try
        {
            var position = 0;
            response = ExecuteTxn(write, request, path, ref position);
        }
        catch
        {
            write.Rollback();
            throw;
        }
        Commit(write);
        response.Header = new ResponseHeader { Revision = Revision };
        return response;
    }

    /// <summary>Drops every version that no read at or after <c>request.revision</c> can see.</summary>
    /// <param name="request">The compaction request.</param>
    /// <returns>The response, carrying the current revision.</returns>
    /// <exception cref="EtcdException">The revision is already compacted or in the future.</exception>
    public CompactionResponse Compact(CompactionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Revision <= CompactRevision)
            throw new EtcdException(EtcdErrors.Compacted);
        if (request.Revision > Revision)
            throw new EtcdException(EtcdErrors.FutureRevision);

        var emptied = new List<ByteString>();
        foreach (var history in Index.All())
        {
            history.Compact(request.Revision);
            if (history.IsEmpty)
                emptied.Add(history.Key);
        }
        foreach (var key in emptied)
            Index.Remove(key);
        CompactRevision = request.Revision;
        return new CompactionResponse { Header = new ResponseHeader { Revision = Revision } };
    }

    /// <summary>
    /// Hashes the kept history up to <c>request.revision</c> (the current revision when 0), as
    /// Maintenance.HashKV reports it. Equal stores give equal hashes; the values are Kvorum's own.
    /// </summary>
    /// <param name="request">The hash request.</param>
    /// <returns>The hash, the compaction revision and the revision hashed up to.</returns>
    /// <exception cref="EtcdException">The revision is compacted or in the future.</exception>
    public HashKVResponse HashKV(HashKVRequest request)
    {
        var (state, revision) = FreezeForHashKV(request);
        return MvccHash.Respond(state, revision);
    }

    /// <summary>
    /// The first half of <see cref="HashKV"/>, on the thread that owns the store: checks the revision and takes the
    /// state (a pass over the index that copies no version). <see cref="MvccHash.Respond"/> then hashes it on any
    /// thread while the store keeps changing.
    /// </summary>
    /// <param name="request">The hash request.</param>
    /// <returns>The state and the revision to hash it up to.</returns>
    /// <exception cref="EtcdException">The revision is compacted or in the future.</exception>
    internal (FrozenStore State, long Revision) FreezeForHashKV(HashKVRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var revision = RangeQuery.ResolveRevision(request.Revision, Revision, CompactRevision);
        return (FrozenStore.Of(this), revision);
    }

    /// <summary>Writes the whole store (every version since the last compaction, the revision and the
    /// compaction revision) to <paramref name="destination"/>. Equal stores write equal bytes.</summary>
    /// <param name="destination">Where to write.</param>
    public void WriteSnapshot(Stream destination) => MvccSnapshot.Write(this, destination);

    /// <summary>The store's snapshot as bytes.</summary>
    /// <returns>The bytes <see cref="WriteSnapshot"/> writes.</returns>
    public byte[] ToSnapshot()
    {
        using var buffer = new MemoryStream();
        WriteSnapshot(buffer);
        return buffer.ToArray();
    }

    /// <summary>Replaces the whole state with a snapshot written by <see cref="WriteSnapshot"/>.</summary>
    /// <param name="source">Where to read.</param>
    /// <exception cref="InvalidDataException">The snapshot is malformed; the store is left empty.</exception>
    public void RestoreSnapshot(Stream source) => MvccSnapshot.Read(this, source);

    /// <summary>Replaces the whole state with a snapshot held in bytes.</summary>
    /// <param name="snapshot">The bytes <see cref="ToSnapshot"/> returned.</param>
    public void RestoreSnapshot(byte[] snapshot)
    {
        using var buffer = new MemoryStream(snapshot, writable: false);
        RestoreSnapshot(buffer);
    }

    /// <summary>Moves to revision <paramref name="revision"/> once a write is complete.</summary>
    internal void AdvanceRevision(long revision) => Revision = revision;

    /// <summary>Sets the state read from a snapshot: clears everything, then sets the revisions.</summary>
    internal void ResetForRestore(long revision, long compactRevision)
    {
        Index.Clear();
        Leases.Clear();
        Revision = revision;
        CompactRevision = compactRevision;
    }

    /// <summary>The undo log every <see cref="StoreWrite"/> of this store uses, one write at a time.</summary>
    internal List<StoreWrite.Undo> UndoLog { get; } = [];

    private TResponse Write<TRequest, TResponse>(TRequest request, Func<StoreWrite, TRequest, TResponse> operation)
    {
        var write = new StoreWrite(this, Committed is not null);
        TResponse response;
        try
        {
            response = operation(write, request);
        }
        catch
        {
            write.Rollback();
            throw;
        }
        Commit(write);
        return response;
    }

    private void Commit(StoreWrite write)
    {
        var changed = write.HasChanges;
        var events = write.Events;
        write.Commit();
        if (changed)
            Committed?.Invoke(this, new MvccCommittedEventArgs(Revision, events));
    }

    private void CheckLease(long lease)
    {
        if (lease != 0 && LeaseExists is { } exists && !exists(lease))
            throw new EtcdException(EtcdErrors.LeaseNotFound);
    }

    /// <summary>
    /// etcd's checks on the ops of the chosen path, against the state before the txn, before anything is written: in
    /// a txn that writes, first every put (the key that ignore_value/ignore_lease needs, then the lease), then every
    /// range's revision. So a txn with both a bad put and a bad range fails on the put, as etcd's does.
    /// </summary>
    private void CheckPath(TxnRequest request, List<bool> path)
    {
        var position = 0;
        if (!ReadOnlyTxn.IsReadOnly(request))
            CheckPath(request, path, ref position, checkPuts: true);
        position = 0;
        CheckPath(request, path, ref position, checkPuts: false);
    }

    private void CheckPath(TxnRequest request, List<bool> path, ref int position, bool checkPuts)
    {
        var succeeded = path[position++];
        foreach (var op in succeeded ? request.Success : request.Failure)
        {
            switch (op.RequestCase)
            {
                case RequestOp.RequestOneofCase.RequestRange when !checkPuts:
                    // etcd's own comparisons, in which a negative revision (otherwise the newest, as 0 is) fails as
                    // compacted once it is below the compaction revision (-1 before the first compaction).
                    var revision = op.RequestRange.Revision;
                    if (revision > Revision)
                        throw new EtcdException(EtcdErrors.FutureRevision);
                    if (revision != 0 && revision < CompactRevision)
                        throw new EtcdException(EtcdErrors.Compacted);
                    break;
                case RequestOp.RequestOneofCase.RequestPut when checkPuts:
                    var put = op.RequestPut;
                    if ((put.IgnoreValue || put.IgnoreLease) && Index.Find(put.Key)?.Live is null)
                        throw new EtcdException(EtcdErrors.KeyNotFound);
                    CheckLease(put.Lease);
                    break;
                case RequestOp.RequestOneofCase.RequestTxn:
                    CheckPath(op.RequestTxn, path, ref position, checkPuts);
                    break;
                default:
                    break;
            }
        }
    }

    private static TxnResponse ExecuteTxn(StoreWrite write, TxnRequest request, List<bool> path, ref int position)
    {
        var succeeded = path[position++];
        // Nested txn responses carry an empty header, as etcd's do; the caller sets the top one.
        var response = new TxnResponse { Succeeded = succeeded, Header = new ResponseHeader() };
        foreach (var op in succeeded ? request.Success : request.Failure)
        {
            response.Responses.Add(op.RequestCase switch
            {
                RequestOp.RequestOneofCase.RequestRange => new ResponseOp { ResponseRange = write.Range(op.RequestRange) },
                RequestOp.RequestOneofCase.RequestPut => new ResponseOp { ResponsePut = write.Put(op.RequestPut) },
                RequestOp.RequestOneofCase.RequestDeleteRange => new ResponseOp { ResponseDeleteRange = write.DeleteRange(op.RequestDeleteRange) },
                RequestOp.RequestOneofCase.RequestTxn => new ResponseOp { ResponseTxn = ExecuteTxn(write, op.RequestTxn, path, ref position) },
                _ => throw new EtcdException(EtcdErrors.KeyNotFound),
            });
        }
        return response;
    }
}
