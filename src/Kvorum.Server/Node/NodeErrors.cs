using Grpc.Core;
using Kvorum.Server.Mvcc;

namespace Kvorum.Server.Node;

/// <summary>
/// The errors a member's runtime answers clients with, as etcd words them (and as Kvorum's own words where etcd has
/// none): each text and status written once, here. Errors of the state machine's own rules are in
/// <see cref="EtcdErrors"/>.
/// </summary>
internal static class NodeErrors
{
    /// <summary>No leader is known to take a write or confirm a read.</summary>
    public static EtcdException NoLeader() => new(StatusCode.Unavailable, "etcdserver: no leader");

    /// <summary>The leader changed (or is being handed over) while the request waited for it.</summary>
    public static EtcdException LeaderChanged() => new(StatusCode.Unavailable, "etcdserver: leader changed");

    /// <summary>A write or linearizable read waited longer than the request timeout.</summary>
    public static EtcdException TimedOut() => new(StatusCode.Unavailable, "etcdserver: request timed out");

    /// <summary>The client cancelled the request before it was answered.</summary>
    public static EtcdException Cancelled() => new(StatusCode.Cancelled, "context canceled");

    /// <summary>The member's loop has stopped: it takes no more requests.</summary>
    public static EtcdException ServerStopped() => new(StatusCode.Unavailable, "etcdserver: server stopped");

    /// <summary>Applying a write produced something other than the answer its caller expects.</summary>
    public static EtcdException UnexpectedApplyResult() => new(StatusCode.Internal, "etcdserver: unexpected apply result");

    /// <summary>A committed entry holds a request this member does not know.</summary>
    public static EtcdException UnknownRequest() => new(StatusCode.Internal, "etcdserver: unknown request");

    /// <summary>A membership change or attribute update names a member the table does not hold.</summary>
    public static EtcdException MemberNotFound() => new(StatusCode.NotFound, "etcdserver: member not found");

    /// <summary>A promotion of a member that votes already.</summary>
    public static EtcdException CanOnlyPromoteLearner() => new(StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member");

    /// <summary>A learner added with the id of a member.</summary>
    public static EtcdException MemberIdAlreadyExists() => new(StatusCode.FailedPrecondition, "etcdserver: member ID already exist");

    /// <summary>A membership change asked while another is not yet applied.</summary>
    public static EtcdException MembershipChangeInProgress() => new(StatusCode.FailedPrecondition, "etcdserver: unhealthy cluster: a membership change is in progress");

    /// <summary>A membership change the Raft core refuses.</summary>
    public static EtcdException InvalidMembershipChange() => new(StatusCode.FailedPrecondition, "etcdserver: invalid membership change");

    /// <summary>A leadership transfer to a member the table does not hold.</summary>
    public static EtcdException BadLeaderTransferee() => new(StatusCode.NotFound, "etcdserver: bad leader transferee");

    /// <summary>A leadership transfer that did not finish within the request timeout.</summary>
    public static EtcdException LeadershipTransferTimedOut() => new(StatusCode.DeadlineExceeded, "etcdserver: leadership transfer timed out");

    /// <summary>A backup asked while another is being written or sent.</summary>
    public static EtcdException BackupInProgress() =>
        new(StatusCode.Unavailable, "kvorum: a snapshot of this member is being sent already; try again when it is done");

    /// <summary>A backup the data directory's disk has no room for, with the sizes in bytes.</summary>
    public static EtcdException NoRoomForBackup(long needed, long free) =>
        new(StatusCode.ResourceExhausted,
            $"kvorum: not enough free space in the data directory for a snapshot: about {needed >> 20} MiB needed, {free >> 20} MiB free");
}
