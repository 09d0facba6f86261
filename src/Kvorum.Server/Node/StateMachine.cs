using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Auth;
using Kvorum.Server.Lease;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Node;

/// <summary>
/// A member's replicated state machine: the MVCC store, the lease table and the member table, with the position in the log of the last
/// entry applied to them, which snapshots record. Committed entries apply in log order, each once
/// (<see cref="Advance"/>); a client request's result, its response or the etcd error it failed with, goes back to
/// whoever proposed it. What else applying an entry does (answering waiters, connecting to peers) is the loop's.
/// </summary>
/// <remarks>Owned by the member loop (<see cref="LoopOwner"/>).</remarks>
internal sealed class StateMachine
{
    private readonly LoopOwner _owner;

    /// <summary>An empty state machine (before a snapshot or the log is applied); a test passes no <paramref name="owner"/>.</summary>
    /// <param name="owner">The member loop.</param>
    /// <param name="minLeaseTtl">The smallest TTL a lease is granted, in seconds (<see cref="Lessor.MinTtlSeconds(int, int)"/>).</param>
    /// <param name="clockMs">Monotonic milliseconds for the lessor's deadlines; the system's when not given.</param>
    /// <param name="tokens">The member's auth tokens, which applied logins add to; etcd's default TTL when not given.</param>
    /// <param name="leaseCheckpoints">Whether the leader checkpoints leases (<see cref="Lessor.CheckpointsEnabled"/>).</param>
    public StateMachine(LoopOwner? owner = null, long minLeaseTtl = 2, Func<long>? clockMs = null, IAuthTokens? tokens = null, bool leaseCheckpoints = true)
    {
        Auth = new AuthStore(tokens ?? new SimpleTokens(TimeSpan.FromMinutes(5)));
        _owner = owner ?? new LoopOwner();
        Leases = new Lessor(minLeaseTtl, clockMs ?? (static () => Environment.TickCount64), _owner, leaseCheckpoints);
        // A put that names a lease the table lacks fails with etcd's "requested lease not found".
        Store = new MvccStore { LeaseExists = Leases.Exists };
    }

    /// <summary>The key-value store.</summary>
    public MvccStore Store { get; }

    /// <summary>The lease table, with the leader's deadlines.</summary>
    public Lessor Leases { get; }

    /// <summary>Users, roles and whether authentication is enabled.</summary>
    public AuthStore Auth { get; }

    /// <summary>The cluster's members with their names and URLs.</summary>
    public MemberTable Members { get; } = new();

    /// <summary>Highest log index applied.</summary>
    public ulong AppliedIndex { get; private set; }

    /// <summary>The term of the entry at <see cref="AppliedIndex"/>.</summary>
    public ulong AppliedTerm { get; private set; }

    /// <summary>
    /// The entry at <paramref name="index"/> of <paramref name="term"/> is applied next: true, and the applied position
    /// moves to it, unless it was applied already (false: a replay after a snapshot).
    /// </summary>
    public bool Advance(ulong index, ulong term)
    {
        _owner.AssertOwned();
        if (index <= AppliedIndex)
            return false;
        AppliedIndex = index;
        AppliedTerm = term;
        return true;
    }

    /// <summary>
    /// Applies the client request a normal entry holds (<paramref name="payload"/>, not empty) and returns it with what
    /// applying it produced: the response, or the <see cref="EtcdException"/> it failed with. A put's value stays a
    /// view into the payload (<see cref="PutValueSharing"/>).
    /// </summary>
    public (InternalRequest Request, object Result) ApplyRequest(ReadOnlyMemory<byte> payload)
    {
        _owner.AssertOwned();
        var request = InternalRequest.Parser.ParseFrom(payload.Span);
        if (request.RequestCase == InternalRequest.RequestOneofCase.Put)
            PutValueSharing.ShareValue(request.Put, payload);
        object result;
        try
        {
            if (request.Requester is { } requester)
                CheckPermissions(request, new AuthInfo(requester.User, requester.Revision));
            result = request.RequestCase switch
            {
                InternalRequest.RequestOneofCase.Put => Store.Put(request.Put),
                InternalRequest.RequestOneofCase.DeleteRange => Store.DeleteRange(request.DeleteRange),
                InternalRequest.RequestOneofCase.Txn => Store.Txn(request.Txn),
                InternalRequest.RequestOneofCase.Compaction => Store.Compact(request.Compaction),
                InternalRequest.RequestOneofCase.Attributes => Members.Apply(request.Attributes) ?? (object)new EtcdException(EtcdErrors.MemberNotFound),
                InternalRequest.RequestOneofCase.LeaseGrant => GrantLease(request.LeaseGrant),
                InternalRequest.RequestOneofCase.LeaseRevoke => RevokeLease(request.LeaseRevoke.ID),
                InternalRequest.RequestOneofCase.LeaseCheckpoints => ApplyCheckpoints(request.LeaseCheckpoints),
                InternalRequest.RequestOneofCase.Auth => Auth.Apply(request.Auth, new AuthInfo(request.Requester?.User ?? "", request.Requester?.Revision ?? 0), AppliedIndex),
                _ => new EtcdException(EtcdErrors.UnknownRequest),
            };
        }
        catch (EtcdException e)
        {
            result = e;
        }
        return (request, result);
    }

    /// <summary>
    /// A client's write is checked against the auth state when it is applied, as etcd does, so every member decides
    /// the same; auth changes check their own (<see cref="AuthStore.Apply"/>).
    /// </summary>
    private void CheckPermissions(InternalRequest request, AuthInfo who)
    {
        var data = Auth.Current;
        if (!data.Enabled)
            return;
        switch (request.RequestCase)
        {
            case InternalRequest.RequestOneofCase.Put:
                RequestPermissions.CheckPut(data, who, request.Put, Store.Leases.KeysOf);
                break;
            case InternalRequest.RequestOneofCase.DeleteRange:
                RequestPermissions.CheckDelete(data, who, request.DeleteRange);
                break;
            case InternalRequest.RequestOneofCase.Txn:
                RequestPermissions.CheckTxn(data, who, request.Txn);
                break;
            case InternalRequest.RequestOneofCase.LeaseRevoke:
                RequestPermissions.CheckLeaseKeys(data, who, Store.Leases.KeysOf(request.LeaseRevoke.ID));
                break;
            default:
                break;
        }
    }

    /// <summary>A grant, checked here on every member (<see cref="Lessor.Grant"/>).</summary>
    private LeaseGrantResponse GrantLease(LeaseGrantRequest grant)
    {
        var ttl = Leases.Grant(grant.ID, grant.TTL);
        return new LeaseGrantResponse { Header = new ResponseHeader { Revision = Store.Revision }, ID = grant.ID, TTL = ttl };
    }

    /// <summary>A revoke, by a client or by the leader's expiry: the lease's keys go in one revision, then the lease.</summary>
    private LeaseRevokeResponse RevokeLease(long id)
    {
        if (!Leases.Exists(id))
            throw new EtcdException(EtcdErrors.LeaseNotFound);
        Store.RevokeLease(id);
        Leases.Revoke(id);
        return new LeaseRevokeResponse { Header = new ResponseHeader { Revision = Store.Revision } };
    }

    /// <summary>The leader's lease checkpoints (<see cref="Lessor.ApplyCheckpoint"/>); a malformed batch changes nothing.</summary>
    private LeaseCheckpointResponse ApplyCheckpoints(LeaseCheckpoints checkpoints)
    {
        if (checkpoints.Ids.Count == checkpoints.RemainingMs.Count)
        {
            for (var i = 0; i < checkpoints.Ids.Count; i++)
                Leases.ApplyCheckpoint(checkpoints.Ids[i], checkpoints.RemainingMs[i]);
        }
        return new LeaseCheckpointResponse { Header = new ResponseHeader { Revision = Store.Revision } };
    }

    /// <summary>
    /// Copies what a snapshot holds, on the loop; the action returned writes it (<see cref="NodeSnapshotFormat"/>) to a
    /// stream on any thread.
    /// </summary>
    public Action<Stream> Capture(ulong clusterId)
    {
        var store = FrozenStore.Of(Store);
        var members = Members.All.Select(m => m.Clone()).ToArray();
        var position = new AppliedPosition(AppliedIndex, AppliedTerm);
        var leases = Leases.Capture();
        var auth = Auth.Current.ToProto();
        return stream => NodeSnapshotFormat.Write(stream, store, members, clusterId, position, leases, auth);
    }

    /// <summary>
    /// Replaces the whole state with the snapshot <paramref name="source"/> holds, which must be the state at
    /// <paramref name="expected"/>; <paramref name="what"/> names the snapshot in the error.
    /// </summary>
    /// <exception cref="InvalidDataException">The snapshot cannot be read, or holds the state at another position.</exception>
    public void Restore(Stream source, AppliedPosition expected, string what)
    {
        _owner.AssertOwned();
        // Buffered: the format is read a field at a time, and each read of the storage's stream is a system call
        // (unbuffered, one- and eight-byte preads took most of a large state's load: docs/benchmarks.md).
        using var buffered = new BufferedStream(source, 1 << 20);
        var header = NodeSnapshotFormat.Read(buffered, Store);
        var (members, position) = header;
        NodeSnapshotFormat.CheckPosition(position, expected, what);
        Leases.Restore(header.Leases);
        Auth.Restore(AuthData.FromProto(header.Auth));
        AppliedIndex = expected.Index;
        AppliedTerm = expected.Term;
        Members.Clear();
        foreach (var m in members)
            Members.Upsert(m);
    }
}
