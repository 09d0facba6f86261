using Grpc.Core;

namespace Kvorum.Etcd.Errors;

/// <summary>
/// Every error a client of Kvorum's etcd API can be answered with, each declared once with its gRPC status code and its
/// text (etcd's <c>rpctypes</c>). The texts are etcd's, byte for byte, since clients and etcdctl match on them; those
/// starting with <c>kvorum:</c> are Kvorum's own, for cases etcd does not have. No other source file writes an
/// <c>etcdserver:</c> or <c>mvcc:</c> text.
/// </summary>
internal static class EtcdErrors
{
    // The key-value API: the request's own checks, and the MVCC store's.

    /// <summary>A request without a key.</summary>
    public static readonly EtcdError EmptyKey = new(StatusCode.InvalidArgument, "etcdserver: key is not provided");

    /// <summary>An ignore_value or ignore_lease put on a missing key, or an empty txn op.</summary>
    public static readonly EtcdError KeyNotFound = new(StatusCode.InvalidArgument, "etcdserver: key not found");

    /// <summary>A put that sets both ignore_value and a value.</summary>
    public static readonly EtcdError ValueProvided = new(StatusCode.InvalidArgument, "etcdserver: value is provided");

    /// <summary>A put that sets both ignore_lease and a lease.</summary>
    public static readonly EtcdError LeaseProvided = new(StatusCode.InvalidArgument, "etcdserver: lease is provided");

    /// <summary>A txn with more compares or ops than <c>--max-txn-ops</c> allows.</summary>
    public static readonly EtcdError TooManyOps = new(StatusCode.InvalidArgument, "etcdserver: too many operations in txn request");

    /// <summary>A txn that would modify one key twice.</summary>
    public static readonly EtcdError DuplicateKey = new(StatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request");

    /// <summary>A write whose proposal is over <c>--max-request-bytes</c>.</summary>
    public static readonly EtcdError RequestTooLarge = new(StatusCode.InvalidArgument, "etcdserver: request is too large");

    /// <summary>A read or compaction at a revision older than the last compaction.</summary>
    public static readonly EtcdError Compacted = new(StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted");

    /// <summary>A read or compaction at a revision the store has not reached.</summary>
    public static readonly EtcdError FutureRevision = new(StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision");

    /// <summary>
    /// etcd's ErrGRPCNoSpace: a write that would pass the quota (<c>--quota-backend-bytes</c>), or any write that puts
    /// while the NOSPACE alarm is raised.
    /// </summary>
    public static readonly EtcdError NoSpace = new(StatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded");

    /// <summary>A put that names a lease that does not exist.</summary>
    public static readonly EtcdError LeaseNotFound = new(StatusCode.NotFound, "etcdserver: requested lease not found");

    // A request's way through the member and Raft.

    /// <summary>No leader is known to take a write or confirm a read.</summary>
    public static readonly EtcdError NoLeader = new(StatusCode.Unavailable, "etcdserver: no leader");

    /// <summary>A client call a learner does not serve: anything but Status, a serializable Range and a Snapshot.</summary>
    public static readonly EtcdError NotSupportedForLearner = new(StatusCode.Unavailable, "etcdserver: rpc not supported for learner");

    /// <summary>The leader changed (or is being handed over) while the request waited for it.</summary>
    public static readonly EtcdError LeaderChanged = new(StatusCode.Unavailable, "etcdserver: leader changed");

    /// <summary>A write or linearizable read waited longer than the request timeout.</summary>
    public static readonly EtcdError TimedOut = new(StatusCode.Unavailable, "etcdserver: request timed out");

    /// <summary>The client cancelled the request before it was answered (the text is Go's context error, as etcd sends it).</summary>
    public static readonly EtcdError Cancelled = new(StatusCode.Cancelled, "context canceled");

    /// <summary>The member's loop has stopped: it takes no more requests.</summary>
    public static readonly EtcdError ServerStopped = new(StatusCode.Unavailable, "etcdserver: server stopped");

    /// <summary>Applying a write produced something other than the answer its caller expects.</summary>
    public static readonly EtcdError UnexpectedApplyResult = new(StatusCode.Internal, "etcdserver: unexpected apply result");

    /// <summary>A committed entry holds a request this member does not know.</summary>
    public static readonly EtcdError UnknownRequest = new(StatusCode.Internal, "etcdserver: unknown request");

    // The Cluster service: membership changes.

    /// <summary>A member add without peer URLs.</summary>
    public static readonly EtcdError PeerUrlsNotProvided = new(StatusCode.InvalidArgument, "etcdserver: member peer urls not provided");

    /// <summary>A member add or update with a peer URL another member has.</summary>
    public static readonly EtcdError PeerUrlExists = new(StatusCode.FailedPrecondition, "etcdserver: Peer URLs already exists");

    /// <summary>A learner added while the cluster has as many learners as it allows.</summary>
    public static readonly EtcdError TooManyLearners = new(StatusCode.FailedPrecondition, "etcdserver: too many learner members in cluster");

    /// <summary>A membership change or attribute update that names a member the cluster does not have.</summary>
    public static readonly EtcdError MemberNotFound = new(StatusCode.NotFound, "etcdserver: member not found");

    /// <summary>A promotion of a member that votes already.</summary>
    public static readonly EtcdError CanOnlyPromoteLearner = new(StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member");

    /// <summary>
    /// etcd's ErrLearnerNotReady: a promotion of a member whose log the leader has replicated to less than 90% of its
    /// own (<c>Node/LearnerReadiness.cs</c>).
    /// </summary>
    public static readonly EtcdError LearnerNotReady = new(StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member which is in sync with leader");

    /// <summary>A learner added with the id of a member.</summary>
    public static readonly EtcdError MemberIdAlreadyExists = new(StatusCode.FailedPrecondition, "etcdserver: member ID already exist");

    /// <summary>A membership change asked while another is not yet applied.</summary>
    public static readonly EtcdError MembershipChangeInProgress = new(StatusCode.FailedPrecondition, "etcdserver: unhealthy cluster: a membership change is in progress");

    /// <summary>A membership change the Raft core refuses.</summary>
    public static readonly EtcdError InvalidMembershipChange = new(StatusCode.FailedPrecondition, "etcdserver: invalid membership change");

    /// <summary>
    /// etcd's ErrNotEnoughStartedMembers: a removal that would leave no voter, or (<c>--strict-reconfig-check</c>) a
    /// change after which fewer voters than a quorum would ever have started. It reaches etcd's clients with
    /// <see cref="StatusCode.Unknown"/>: etcd 3.4 maps it to a client-side error, not to a gRPC status.
    /// </summary>
    public static readonly EtcdError NotEnoughStartedMembers = new(StatusCode.Unknown, "etcdserver: re-configuration failed due to not enough started members");

    /// <summary>
    /// etcd's ErrUnhealthy (<c>--strict-reconfig-check</c>): a member add while the member asked has not been connected
    /// to every voter for 5 s, or a removal that would leave fewer voters connected to it than a quorum.
    /// </summary>
    public static readonly EtcdError Unhealthy = new(StatusCode.Unavailable, "etcdserver: unhealthy cluster");

    /// <summary>A member add or update with a peer URL that is not an absolute http or https URL.</summary>
    /// <param name="url">The URL as the client sent it.</param>
    /// <returns>The error naming it.</returns>
    public static EtcdError InvalidPeerUrl(string url) => new(StatusCode.InvalidArgument, $"etcdserver: invalid peer URL {url}");

    // The Maintenance service.

    /// <summary>A leadership transfer asked of a member that does not lead.</summary>
    public static readonly EtcdError NotLeader = new(StatusCode.FailedPrecondition, "etcdserver: not leader");

    /// <summary>A leadership transfer to a member the cluster does not have, or to a learner.</summary>
    public static readonly EtcdError BadLeaderTransferee = new(StatusCode.FailedPrecondition, "etcdserver: bad leader transferee");

    /// <summary>A leadership transfer that did not finish within the request timeout.</summary>
    public static readonly EtcdError LeadershipTransferTimedOut = new(StatusCode.DeadlineExceeded, "etcdserver: leadership transfer timed out");

    /// <summary>A backup asked while another is being written or sent.</summary>
    public static readonly EtcdError BackupInProgress =
        new(StatusCode.Unavailable, "kvorum: a snapshot of this member is being sent already; try again when it is done");

    /// <summary>A backup the data directory's disk has no room for.</summary>
    /// <param name="needed">Bytes the backup needs, about.</param>
    /// <param name="free">Bytes free on the disk.</param>
    /// <returns>The error, with both in MiB.</returns>
    public static EtcdError NoRoomForBackup(long needed, long free) =>
        new(StatusCode.ResourceExhausted,
            $"kvorum: not enough free space in the data directory for a snapshot: about {needed >> 20} MiB needed, {free >> 20} MiB free");

    /// <summary>A backup whose temporary file could not be written.</summary>
    /// <param name="reason">The I/O error's message.</param>
    /// <returns>The error, with the reason.</returns>
    public static EtcdError BackupNotWritten(string reason) =>
        new(StatusCode.Internal, $"kvorum: cannot write the snapshot to a temporary file: {reason}");

    /// <summary>Hash, which hashes etcd's database file: Kvorum has none.</summary>
    public static readonly EtcdError HashUnsupported =
        new(StatusCode.Unimplemented, "kvorum: Hash hashes etcd's database file, which Kvorum does not have; use HashKV (etcdctl endpoint hashkv)");

    /// <summary>Downgrade: Kvorum has one storage version.</summary>
    public static readonly EtcdError DowngradeUnsupported =
        new(StatusCode.Unimplemented, "kvorum: Downgrade is not implemented: Kvorum has a single storage version");

    // The Watch service: reasons a watch is refused, sent as a response's cancel_reason rather than as a status.

    /// <summary>A watch whose key is not before its range end.</summary>
    public static readonly EtcdError WatchRangeEmpty = new(StatusCode.InvalidArgument, "mvcc: watcher range is empty");

    /// <summary>A watch asking for an id its stream already has.</summary>
    public static readonly EtcdError WatchDuplicateId = new(StatusCode.InvalidArgument, "mvcc: duplicate watch ID provided on the WatchStream");

    // Leases.

    /// <summary>LeaseGrant of an id that exists.</summary>
    public static readonly EtcdError LeaseExists = new(StatusCode.FailedPrecondition, "etcdserver: lease already exists");

    /// <summary>LeaseGrant with a TTL over etcd's maximum (9,000,000,000 s).</summary>
    public static readonly EtcdError LeaseTtlTooLarge = new(StatusCode.OutOfRange, "etcdserver: too large lease TTL");

    // Lock and Election: etcd's server runs them on its own client, so every failure, its own or a KV call's, reaches
    // the caller as Unknown with the text (EtcdCall.AsUnknown).

    /// <summary>Proclaim (or a campaign's proclaim) whose leader key no longer leads: its creation revision differs.</summary>
    public static readonly EtcdError ElectionNotLeader = new(StatusCode.Unknown, "election: not leader");

    /// <summary>Leader of an election with no key under its prefix.</summary>
    public static readonly EtcdError ElectionNoLeader = new(StatusCode.Unknown, "election: no leader");

    /// <summary>Proclaim or Resign without a leader key.</summary>
    public static readonly EtcdError LeaderKeyMissing = new(StatusCode.Unknown, "\"leader\" field must be provided");

    /// <summary>A lock's or a campaign's wait for its predecessor's deletion whose watch ended first.</summary>
    public static readonly EtcdError LostWatcher = new(StatusCode.Unknown, "lost watcher waiting for delete");

    /// <summary>A lock's or a campaign's wait whose watch the server cancelled.</summary>
    /// <param name="reason">The watch's cancel reason, e.g. <see cref="Compacted"/>'s text.</param>
    /// <returns>The error, with the reason as its text.</returns>
    public static EtcdError WaitCanceled(string reason) => new(StatusCode.Unknown, reason);

    // Users, roles and tokens (the Auth service and the permission checks of every other service).

    /// <summary>AuthEnable without a user named root.</summary>
    public static readonly EtcdError RootUserNotExist = new(StatusCode.FailedPrecondition, "etcdserver: root user does not exist");

    /// <summary>AuthEnable while the root user lacks the root role.</summary>
    public static readonly EtcdError RootRoleNotExist = new(StatusCode.FailedPrecondition, "etcdserver: root user does not have root role");

    /// <summary>UserAdd of a name that exists.</summary>
    public static readonly EtcdError UserAlreadyExist = new(StatusCode.FailedPrecondition, "etcdserver: user name already exists");

    /// <summary>A request without a user while authentication is enabled (no token), or a UserAdd without a name.</summary>
    public static readonly EtcdError UserEmpty = new(StatusCode.InvalidArgument, "etcdserver: user name is empty");

    /// <summary>A user request that names a user that does not exist.</summary>
    public static readonly EtcdError UserNotFound = new(StatusCode.FailedPrecondition, "etcdserver: user name not found");

    /// <summary>RoleAdd of a name that exists.</summary>
    public static readonly EtcdError RoleAlreadyExist = new(StatusCode.FailedPrecondition, "etcdserver: role name already exists");

    /// <summary>A request that names a role that does not exist.</summary>
    public static readonly EtcdError RoleNotFound = new(StatusCode.FailedPrecondition, "etcdserver: role name not found");

    /// <summary>RoleAdd without a name.</summary>
    public static readonly EtcdError RoleEmpty = new(StatusCode.InvalidArgument, "etcdserver: role name is empty");

    /// <summary>Authenticate with an unknown user, a wrong password, or a user without a password.</summary>
    public static readonly EtcdError AuthFailed = new(StatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password");

    /// <summary>A request the user's roles do not allow.</summary>
    public static readonly EtcdError PermissionDenied = new(StatusCode.PermissionDenied, "etcdserver: permission denied");

    /// <summary>UserRevokeRole of a role the user does not have.</summary>
    public static readonly EtcdError RoleNotGranted = new(StatusCode.FailedPrecondition, "etcdserver: role is not granted to the user");

    /// <summary>RoleRevokePermission of a key or range the role has no permission on.</summary>
    public static readonly EtcdError PermissionNotGranted = new(StatusCode.FailedPrecondition, "etcdserver: permission is not granted to the role");

    /// <summary>Authenticate while authentication is disabled.</summary>
    public static readonly EtcdError AuthNotEnabled = new(StatusCode.FailedPrecondition, "etcdserver: authentication is not enabled");

    /// <summary>A token that this member does not know, or that has expired or been invalidated.</summary>
    public static readonly EtcdError InvalidAuthToken = new(StatusCode.Unauthenticated, "etcdserver: invalid auth token");

    /// <summary>A change that would lock the root user out while authentication is enabled.</summary>
    public static readonly EtcdError InvalidAuthManagement = new(StatusCode.InvalidArgument, "etcdserver: invalid auth management");

    /// <summary>
    /// Authenticate on a member whose JWT key is a public key only (<c>--auth-token jwt,pub-key=...</c>): it verifies
    /// tokens but cannot sign them. etcd's auth store error, which gRPC sends as Unknown with the store's text.
    /// </summary>
    public static readonly EtcdError AuthVerifyOnly = new(StatusCode.Unknown, "auth: token signing attempted with verify-only key");

    /// <summary>A write whose token was resolved before an auth change that was applied before it.</summary>
    public static readonly EtcdError AuthOldRevision = new(StatusCode.InvalidArgument, "etcdserver: revision of auth store is old");

    /// <summary>
    /// A Maintenance call that needs root (Defragment, Hash, HashKV, Snapshot) by another user: etcd's maintenance
    /// server returns the auth store's own error, which gRPC sends as Unknown with the store's text.
    /// </summary>
    public static readonly EtcdError MaintenancePermissionDenied = new(StatusCode.Unknown, "auth: permission denied");

    /// <summary>A Maintenance call that needs root, without a token (see <see cref="MaintenancePermissionDenied"/>).</summary>
    public static readonly EtcdError MaintenanceUserEmpty = new(StatusCode.Unknown, "auth: user name is empty");

    /// <summary>A Maintenance call that needs root, by a user that does not exist (see <see cref="MaintenancePermissionDenied"/>).</summary>
    public static readonly EtcdError MaintenanceUserNotFound = new(StatusCode.Unknown, "auth: user name not found");

    // Unread answers (Kvorum.Server/Http2/UnreadAnswerBudget.cs).

    /// <summary>
    /// A large read whose answer found no room, in time, in the member's budget of answers waiting for their clients
    /// to read them. Unavailable, so that etcd's clients retry the read.
    /// </summary>
    public static readonly EtcdError TooManyUnreadAnswers =
        new(StatusCode.Unavailable, "kvorum: too many large answers are waiting for their clients to read them; try again later");
}
