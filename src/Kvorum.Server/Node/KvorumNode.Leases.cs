using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Raft;
using Kvorum.Server.Lease;
using Kvorum.Server.Node.Wire;
using Kvorum.Server.Transport;

namespace Kvorum.Server.Node;

/// <summary>
/// Leases (etcd's Lease service) on the member. Grants and revokes go through Raft and are applied to the lease table
/// on every member (<see cref="StateMachine.Leases"/>). Deadlines are the leader's alone: it becomes primary when it
/// applies its own term's first entry (<see cref="OnLeaderEntryApplied"/>) and stops being primary when it loses the
/// role (<see cref="DemoteLeases"/>); each tick it proposes revokes for the leases that expired
/// (<see cref="ExpireLeases"/>) and checkpoints the leases no one renews (<see cref="CheckpointLeases"/>). Renewals
/// and time-to-live queries are answered by the leader: a follower forwards them (<see cref="LeaderForwarder"/>).
/// </summary>
internal sealed partial class KvorumNode : ILeaseLeader
{
    /// <summary>What a grant counts against the backend quota, as etcd's <c>leaseOverhead</c>.</summary>
    internal const long LeaseQuotaCost = 64;

    /// <summary>At most this many revokes of expired leases outstanding at once (etcd's <c>maxPendingRevokes</c>).</summary>
    private const int MaxRevokesInFlight = 16;

    /// <summary>Lease checkpoints proposed per tick at most (etcd's <c>maxLeaseCheckpointBatchSize</c>).</summary>
    private const int CheckpointBatch = 1000;

    /// <summary>Expired leases revoked per second at most (etcd's <c>leaseRevokeRate</c>).</summary>
    private const int RevokesPerSecond = 1000;

    /// <summary>How long a member that received a forwarded renewal waits to become ready (promoted, caught up) before refusing it.</summary>
    private static readonly TimeSpan ForwardedWait = TimeSpan.FromSeconds(1);

    /// <summary>How long one forwarded call may take before the follower tries again.</summary>
    private static readonly TimeSpan ForwardTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long a renewal that cannot be answered yet waits before it is tried again.</summary>
    private static readonly TimeSpan LeaseRetryDelay = TimeSpan.FromMilliseconds(50);

    private readonly LeaderForwarder _leaderForwarder = new(new TransportOptions());
    private LeaseIds? _leaseIds;

    /// <summary>Where a renewal or time-to-live query is answered.</summary>
    private enum LeaseRoute
    {
        /// <summary>Here: this member's lessor is primary and has applied all that is committed.</summary>
        Here,

        /// <summary>This member leads but is not ready yet (not promoted, or behind its commit index).</summary>
        NotYet,

        /// <summary>At the leader, whose peer URLs come with it.</summary>
        Leader,

        /// <summary>Nowhere: no leader is known.</summary>
        NoLeader,
    }

    /// <summary>
    /// Grants a lease through Raft. An ID of 0 is replaced by one this member picks (<see cref="LeaseIds"/>) and the TTL
    /// is raised to this member's minimum (<see cref="Lessor.Raise"/>) before it is proposed; the largest TTL and
    /// "already exists" are checked when the grant is applied, on every member.
    /// </summary>
    /// <exception cref="EtcdException">Quota, TTL too large, lease exists, or a proposal failure.</exception>
    public Task<LeaseGrantResponse> GrantLeaseAsync(LeaseGrantRequest request, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckQuota(LeaseQuotaCost);
        CheckNoSpaceAlarm(LeaseQuotaCost);
        var ids = LazyInitializer.EnsureInitialized(ref _leaseIds, () => new LeaseIds(MemberId, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        var grant = new LeaseGrantRequest { ID = request.ID != 0 ? request.ID : ids.Next(), TTL = _state.Leases.Raise(request.TTL) };
        return ProposeAsync<LeaseGrantResponse>(new InternalRequest { LeaseGrant = grant }, cancellation);
    }

    /// <summary>Revokes a lease through Raft: its keys are deleted in one revision on every member.</summary>
    /// <exception cref="EtcdException">Unknown lease, or a proposal failure.</exception>
    public Task<LeaseRevokeResponse> RevokeLeaseAsync(long id, CancellationToken cancellation) =>
        ProposeAsync<LeaseRevokeResponse>(new InternalRequest { LeaseRevoke = new LeaseRevokeRequest { ID = id } }, cancellation);

    /// <summary>
    /// Renews a lease at the leader (here, or forwarded to it). The leader renews only once a quorum has confirmed it
    /// still leads (a ReadIndex round started after the request came): a leader cut off from the others would
    /// otherwise acknowledge renewals that the majority, which elects another leader and expires the lease, never
    /// hears of, and a lease could expire sooner than its TTL after an acknowledged keep-alive.
    /// </summary>
    /// <returns>The granted TTL, or -1 when the lease is unknown (or expired and waiting for its revoke).</returns>
    /// <exception cref="EtcdException">No leader answered within the request timeout.</exception>
    public async Task<long> RenewLeaseAsync(long id, CancellationToken cancellation)
    {
        var renewal = await RouteLeaseAsync(
            () => RenewHere(id),
            async (urls, c) => new Renewal(await _leaderForwarder.RenewAsync(urls, ClusterId, id, ForwardTimeout, c).ConfigureAwait(false), false),
            forwarded: false, cancellation, confirmLeadership: true).ConfigureAwait(false);
        return await AcknowledgeAsync(id, renewal, cancellation).ConfigureAwait(false);
    }

    /// <summary>A lease's time to live as the leader sees it (here, or forwarded to it); TTL -1 when unknown.</summary>
    /// <exception cref="EtcdException">No leader answered within the request timeout.</exception>
    public Task<LeaseTimeToLiveResponse> LeaseTimeToLiveAsync(long id, bool keys, CancellationToken cancellation) =>
        RouteLeaseAsync(() => TimeToLiveHere(id, keys), (urls, c) => _leaderForwarder.TimeToLiveAsync(urls, ClusterId, id, keys, ForwardTimeout, c), forwarded: false, cancellation);

    /// <summary>Every lease of this member's table, soonest deadline first; answered here even without a leader, as etcd's.</summary>
    public Task<IReadOnlyList<long>> LeaseIdsAsync() => QueryAsync(() => _state.Leases.Ids());

    /// <inheritdoc />
    async Task<long> ILeaseLeader.RenewForwardedAsync(long id, CancellationToken cancellation)
    {
        var renewal = await RouteLeaseAsync(() => RenewHere(id), null, forwarded: true, cancellation, confirmLeadership: true).ConfigureAwait(false);
        return await AcknowledgeAsync(id, renewal, cancellation).ConfigureAwait(false);
    }

    /// <summary>A renewal's outcome on the primary: the TTL, and whether a checkpoint must be cleared before it is acknowledged.</summary>
    private readonly record struct Renewal(long Ttl, bool ClearCheckpoint);

    /// <summary>On the loop, on the primary: renews lease <paramref name="id"/> (<see cref="Lessor.Renew(long, out bool)"/>).</summary>
    private Renewal RenewHere(long id)
    {
        var ttl = _state.Leases.Renew(id, out var clear);
        return new Renewal(ttl, clear);
    }

    /// <summary>
    /// The TTL to answer a renewal with, once it may be: a renewal of a checkpointed lease first has the checkpoint
    /// cleared through Raft (see <c>Lessor.Checkpoints.cs</c> on why).
    /// </summary>
    private async Task<long> AcknowledgeAsync(long id, Renewal renewal, CancellationToken cancellation)
    {
        if (renewal.ClearCheckpoint)
        {
            var clear = new InternalRequest { LeaseCheckpoints = Lessor.ToProposal([(id, 0L)]) };
            await ProposeAsync<LeaseCheckpointResponse>(clear, cancellation).ConfigureAwait(false);
        }
        return renewal.Ttl;
    }

    /// <inheritdoc />
    Task<LeaseTimeToLiveResponse> ILeaseLeader.TimeToLiveForwardedAsync(long id, bool keys, CancellationToken cancellation) =>
        RouteLeaseAsync(() => TimeToLiveHere(id, keys), null, forwarded: true, cancellation);

    /// <summary>
    /// Answers with <paramref name="here"/> on the loop once this member's lessor can (<see cref="LeaseRoute.Here"/>),
    /// or with <paramref name="atLeader"/> at the leader; asks again while neither can, up to the request timeout
    /// (<see cref="ForwardedWait"/> for a call that was <paramref name="forwarded"/> here, which is never forwarded on).
    /// With <paramref name="confirmLeadership"/>, the answer here is given only after a quorum confirmed this member
    /// still leads (<see cref="ConfirmedHereAsync"/>).
    /// </summary>
    private async Task<T> RouteLeaseAsync<T>(
        Func<T> here, Func<IReadOnlyList<Uri>, CancellationToken, Task<T>>? atLeader, bool forwarded, CancellationToken cancellation, bool confirmLeadership = false)
    {
        var started = Stopwatch.GetTimestamp();
        var limit = forwarded ? ForwardedWait : RequestTimeout;
        while (true)
        {
            // The common case on the leader: straight to the confirming read, one trip through the loop fewer. The
            // published status may be stale; the read checks the route again on the loop before it answers.
            if (confirmLeadership && _status.Role == StateRole.Leader)
            {
                var left = limit - Stopwatch.GetElapsedTime(started);
                if (left > TimeSpan.Zero && await ConfirmedHereAsync(here, left, cancellation).ConfigureAwait(false) is { } confirmed)
                    return confirmed.Value;
            }
            var (route, answer, urls) = await QueryAsync(() =>
            {
                var route = RouteLease();
                return route.Route == LeaseRoute.Here && !confirmLeadership ? (route.Route, here(), route.Urls) : (route.Route, default(T), route.Urls);
            }).WaitAsync(cancellation).ConfigureAwait(false);
            if (route == LeaseRoute.Here && confirmLeadership)
            {
                var left = limit - Stopwatch.GetElapsedTime(started);
                if (left > TimeSpan.Zero && await ConfirmedHereAsync(here, left, cancellation).ConfigureAwait(false) is { } confirmed)
                    return confirmed.Value;
                route = LeaseRoute.NotYet; // leadership moved or was not confirmed in time: route again
            }
            if (route == LeaseRoute.Here)
                return answer!;
            if (forwarded && route != LeaseRoute.NotYet)
                throw new EtcdException(EtcdErrors.NotLeader);
            if (route == LeaseRoute.Leader && atLeader is not null)
            {
                try
                {
                    return await atLeader(urls!, cancellation).ConfigureAwait(false);
                }
                catch (RpcException) when (!cancellation.IsCancellationRequested)
                {
                    // The leader changed or is unreachable: route again.
                }
            }
            if (Stopwatch.GetElapsedTime(started) >= limit)
                throw new EtcdException(forwarded ? EtcdErrors.NotLeader : EtcdErrors.NoLeader);
            await Task.Delay(LeaseRetryDelay, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs <paramref name="here"/> as a linearizable read does: on the loop, after a ReadIndex round that a quorum
    /// answered confirmed this member's leadership, and only if it still leads and may answer then. Null when it
    /// cannot: the leadership changed, or no quorum answered within <paramref name="limit"/>.
    /// </summary>
    private async Task<Confirmed<T>?> ConfirmedHereAsync<T>(Func<T> here, TimeSpan limit, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(limit);
        try
        {
            var answer = await ReadAsync<object>(() => RouteLease().Route == LeaseRoute.Here ? new Confirmed<T>(here()) : NotConfirmed, serializable: false, timeout.Token).ConfigureAwait(false);
            return answer as Confirmed<T>;
        }
        catch (EtcdException) when (!cancellation.IsCancellationRequested)
        {
            return null; // "leader changed", "no leader", "timed out", or this call's own time limit
        }
    }

    /// <summary>An answer given with the leadership confirmed (a class, so that "none" is null for any answer type).</summary>
    private sealed record Confirmed<T>(T Value);

    /// <summary>What a confirmed read answers when this member no longer leads or may not answer yet.</summary>
    private static readonly object NotConfirmed = new();

    /// <summary>On the loop: where a renewal is answered now (<see cref="LeaseRoute"/>).</summary>
    private (LeaseRoute Route, IReadOnlyList<Uri>? Urls) RouteLease()
    {
        _owner.AssertOwned();
        if (_raft.Role == StateRole.Leader)
        {
            // A promoted leader that is behind its commit index might renew a lease a committed revoke has removed.
            return _state.Leases.IsPrimary && _state.AppliedIndex >= _raft.Committed ? (LeaseRoute.Here, null) : (LeaseRoute.NotYet, null);
        }
        return LeaderPeerUrls() is { } urls ? (LeaseRoute.Leader, urls) : (LeaseRoute.NoLeader, null);
    }

    /// <summary>On the loop, on a member that does not lead: the peer URLs of the leader it knows, or null when it knows none.</summary>
    private IReadOnlyList<Uri>? LeaderPeerUrls()
    {
        _owner.AssertOwned();
        var lead = _raft.Lead;
        if (lead == 0 || lead == MemberId)
            return null;
        foreach (var (id, urls) in _state.Members.Peers(MemberId))
        {
            if (id == lead && urls.Count > 0)
                return urls;
        }
        return null;
    }

    /// <summary>On the loop: closes the forwarding channels to URLs no member has any more.</summary>
    private void RetainLeaseChannels() =>
        _leaderForwarder.Retain(_state.Members.Peers(MemberId).SelectMany(p => p.Urls));

    /// <summary>On the loop: the answer to LeaseTimeToLive from this member's (primary) lessor.</summary>
    private LeaseTimeToLiveResponse TimeToLiveHere(long id, bool keys)
    {
        var response = new LeaseTimeToLiveResponse { Header = new ResponseHeader { Revision = _state.Store.Revision }, ID = id };
        if (_state.Leases.TimeToLive(id) is not { } left)
        {
            response.TTL = -1;
            return response;
        }
        response.TTL = left.Remaining;
        response.GrantedTTL = left.GrantedTtl;
        if (keys)
            response.Keys.AddRange(_state.Store.Leases.KeysOf(id));
        return response;
    }

    /// <summary>
    /// An empty entry was applied: when it is this leader's own term's (every earlier entry is applied by now), the
    /// lessor becomes primary, every deadline pushed out by an election timeout (etcd's promotion).
    /// </summary>
    private void OnLeaderEntryApplied(ulong term)
    {
        if (_raft.Role == StateRole.Leader && term == _raft.Term)
            _state.Leases.Promote(_options.ElectionTimeoutMs);
    }

    /// <summary>Leadership is lost: the lessor has no deadlines until this member leads again.</summary>
    private void DemoteLeases()
    {
        if (_state.Leases.IsPrimary)
            _state.Leases.Demote();
    }

    /// <summary>
    /// Each tick, on the primary: proposes a revoke for each lease that expired, at most
    /// <see cref="RevokesPerSecond"/> a second and <see cref="MaxRevokesInFlight"/> outstanding; one not applied within
    /// the request timeout is proposed again. No one waits for these proposals: applying them is enough.
    /// </summary>
    private void ExpireLeases()
    {
        if (!_state.Leases.IsPrimary)
            return;
        var batch = Math.Max(1, RevokesPerSecond * _options.HeartbeatIntervalMs / 1000);
        foreach (var id in _state.Leases.TakeExpired(batch, MaxRevokesInFlight, (long)RequestTimeout.TotalMilliseconds))
        {
            var request = new InternalRequest { Id = _proposals.NextId(), LeaseRevoke = new LeaseRevokeRequest { ID = id } };
            _raft.Propose(request.ToByteArray());
        }
    }

    /// <summary>
    /// Each tick, on the primary: proposes one batch of checkpoints of the leases no one has renewed for half their TTL
    /// (<see cref="Lessor.TakeCheckpoints"/>), at most <see cref="CheckpointBatch"/>; no one waits for it.
    /// </summary>
    private void CheckpointLeases()
    {
        if (!_state.Leases.IsPrimary)
            return;
        var due = _state.Leases.TakeCheckpoints(CheckpointBatch, (long)RequestTimeout.TotalMilliseconds);
        if (due.Count == 0)
            return;
        var request = new InternalRequest { Id = _proposals.NextId(), LeaseCheckpoints = Lessor.ToProposal(due) };
        _raft.Propose(request.ToByteArray());
    }
}
