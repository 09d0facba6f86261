using System.Reflection;
using Grpc.Core;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Tests.Errors;

/// <summary>
/// The catalogue of <see cref="EtcdErrors"/> against the statuses and texts clients are sent: this table is the
/// specification, written out here once more on purpose (etcd's texts, which clients and etcdctl match on, and
/// Kvorum's own), and every entry must be in it.
/// </summary>
public sealed class EtcdErrorsTests
{
    /// <summary>Each entry of the catalogue with the status code and the text a client must receive.</summary>
    private static readonly Dictionary<string, (EtcdError Error, StatusCode Code, string Text)> Expected = new[]
    {
        (nameof(EtcdErrors.EmptyKey), EtcdErrors.EmptyKey, StatusCode.InvalidArgument, "etcdserver: key is not provided"),
        (nameof(EtcdErrors.KeyNotFound), EtcdErrors.KeyNotFound, StatusCode.InvalidArgument, "etcdserver: key not found"),
        (nameof(EtcdErrors.ValueProvided), EtcdErrors.ValueProvided, StatusCode.InvalidArgument, "etcdserver: value is provided"),
        (nameof(EtcdErrors.LeaseProvided), EtcdErrors.LeaseProvided, StatusCode.InvalidArgument, "etcdserver: lease is provided"),
        (nameof(EtcdErrors.TooManyOps), EtcdErrors.TooManyOps, StatusCode.InvalidArgument, "etcdserver: too many operations in txn request"),
        (nameof(EtcdErrors.DuplicateKey), EtcdErrors.DuplicateKey, StatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request"),
        (nameof(EtcdErrors.RequestTooLarge), EtcdErrors.RequestTooLarge, StatusCode.InvalidArgument, "etcdserver: request is too large"),
        (nameof(EtcdErrors.Compacted), EtcdErrors.Compacted, StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted"),
        (nameof(EtcdErrors.FutureRevision), EtcdErrors.FutureRevision, StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision"),
        (nameof(EtcdErrors.NoSpace), EtcdErrors.NoSpace, StatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded"),
        (nameof(EtcdErrors.LeaseNotFound), EtcdErrors.LeaseNotFound, StatusCode.NotFound, "etcdserver: requested lease not found"),
        (nameof(EtcdErrors.NoLeader), EtcdErrors.NoLeader, StatusCode.Unavailable, "etcdserver: no leader"),
        (nameof(EtcdErrors.NotSupportedForLearner), EtcdErrors.NotSupportedForLearner, StatusCode.Unavailable, "etcdserver: rpc not supported for learner"),
        (nameof(EtcdErrors.LeaderChanged), EtcdErrors.LeaderChanged, StatusCode.Unavailable, "etcdserver: leader changed"),
        (nameof(EtcdErrors.TimedOut), EtcdErrors.TimedOut, StatusCode.Unavailable, "etcdserver: request timed out"),
        (nameof(EtcdErrors.Cancelled), EtcdErrors.Cancelled, StatusCode.Cancelled, "context canceled"),
        (nameof(EtcdErrors.ServerStopped), EtcdErrors.ServerStopped, StatusCode.Unavailable, "etcdserver: server stopped"),
        (nameof(EtcdErrors.UnexpectedApplyResult), EtcdErrors.UnexpectedApplyResult, StatusCode.Internal, "etcdserver: unexpected apply result"),
        (nameof(EtcdErrors.UnknownRequest), EtcdErrors.UnknownRequest, StatusCode.Internal, "etcdserver: unknown request"),
        (nameof(EtcdErrors.PeerUrlsNotProvided), EtcdErrors.PeerUrlsNotProvided, StatusCode.InvalidArgument, "etcdserver: member peer urls not provided"),
        (nameof(EtcdErrors.PeerUrlExists), EtcdErrors.PeerUrlExists, StatusCode.FailedPrecondition, "etcdserver: Peer URLs already exists"),
        (nameof(EtcdErrors.TooManyLearners), EtcdErrors.TooManyLearners, StatusCode.FailedPrecondition, "etcdserver: too many learner members in cluster"),
        (nameof(EtcdErrors.MemberNotFound), EtcdErrors.MemberNotFound, StatusCode.NotFound, "etcdserver: member not found"),
        (nameof(EtcdErrors.CanOnlyPromoteLearner), EtcdErrors.CanOnlyPromoteLearner, StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member"),
        (nameof(EtcdErrors.LearnerNotReady), EtcdErrors.LearnerNotReady, StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member which is in sync with leader"),
        (nameof(EtcdErrors.MemberIdAlreadyExists), EtcdErrors.MemberIdAlreadyExists, StatusCode.FailedPrecondition, "etcdserver: member ID already exist"),
        (nameof(EtcdErrors.MembershipChangeInProgress), EtcdErrors.MembershipChangeInProgress, StatusCode.FailedPrecondition, "etcdserver: unhealthy cluster: a membership change is in progress"),
        (nameof(EtcdErrors.InvalidMembershipChange), EtcdErrors.InvalidMembershipChange, StatusCode.FailedPrecondition, "etcdserver: invalid membership change"),
        (nameof(EtcdErrors.NotEnoughStartedMembers), EtcdErrors.NotEnoughStartedMembers, StatusCode.Unknown, "etcdserver: re-configuration failed due to not enough started members"),
        (nameof(EtcdErrors.Unhealthy), EtcdErrors.Unhealthy, StatusCode.Unavailable, "etcdserver: unhealthy cluster"),
        (nameof(EtcdErrors.InvalidPeerUrl), EtcdErrors.InvalidPeerUrl("ftp://x"), StatusCode.InvalidArgument, "etcdserver: invalid peer URL ftp://x"),
        (nameof(EtcdErrors.NotLeader), EtcdErrors.NotLeader, StatusCode.FailedPrecondition, "etcdserver: not leader"),
        (nameof(EtcdErrors.BadLeaderTransferee), EtcdErrors.BadLeaderTransferee, StatusCode.FailedPrecondition, "etcdserver: bad leader transferee"),
        (nameof(EtcdErrors.LeadershipTransferTimedOut), EtcdErrors.LeadershipTransferTimedOut, StatusCode.DeadlineExceeded, "etcdserver: leadership transfer timed out"),
        (nameof(EtcdErrors.BackupInProgress), EtcdErrors.BackupInProgress, StatusCode.Unavailable, "kvorum: a snapshot of this member is being sent already; try again when it is done"),
        (nameof(EtcdErrors.NoRoomForBackup), EtcdErrors.NoRoomForBackup(3 << 20, (1 << 20) + 5), StatusCode.ResourceExhausted, "kvorum: not enough free space in the data directory for a snapshot: about 3 MiB needed, 1 MiB free"),
        (nameof(EtcdErrors.BackupNotWritten), EtcdErrors.BackupNotWritten("disk full"), StatusCode.Internal, "kvorum: cannot write the snapshot to a temporary file: disk full"),
        (nameof(EtcdErrors.HashUnsupported), EtcdErrors.HashUnsupported, StatusCode.Unimplemented, "kvorum: Hash hashes etcd's database file, which Kvorum does not have; use HashKV (etcdctl endpoint hashkv)"),
        (nameof(EtcdErrors.DowngradeUnsupported), EtcdErrors.DowngradeUnsupported, StatusCode.Unimplemented, "kvorum: Downgrade is not implemented: Kvorum has a single storage version"),
        (nameof(EtcdErrors.WatchRangeEmpty), EtcdErrors.WatchRangeEmpty, StatusCode.InvalidArgument, "mvcc: watcher range is empty"),
        (nameof(EtcdErrors.WatchDuplicateId), EtcdErrors.WatchDuplicateId, StatusCode.InvalidArgument, "mvcc: duplicate watch ID provided on the WatchStream"),
        (nameof(EtcdErrors.LeaseExists), EtcdErrors.LeaseExists, StatusCode.FailedPrecondition, "etcdserver: lease already exists"),
        (nameof(EtcdErrors.LeaseTtlTooLarge), EtcdErrors.LeaseTtlTooLarge, StatusCode.OutOfRange, "etcdserver: too large lease TTL"),
        (nameof(EtcdErrors.ElectionNotLeader), EtcdErrors.ElectionNotLeader, StatusCode.Unknown, "election: not leader"),
        (nameof(EtcdErrors.ElectionNoLeader), EtcdErrors.ElectionNoLeader, StatusCode.Unknown, "election: no leader"),
        (nameof(EtcdErrors.LeaderKeyMissing), EtcdErrors.LeaderKeyMissing, StatusCode.Unknown, "\"leader\" field must be provided"),
        (nameof(EtcdErrors.LostWatcher), EtcdErrors.LostWatcher, StatusCode.Unknown, "lost watcher waiting for delete"),
        (nameof(EtcdErrors.RootUserNotExist), EtcdErrors.RootUserNotExist, StatusCode.FailedPrecondition, "etcdserver: root user does not exist"),
        (nameof(EtcdErrors.RootRoleNotExist), EtcdErrors.RootRoleNotExist, StatusCode.FailedPrecondition, "etcdserver: root user does not have root role"),
        (nameof(EtcdErrors.UserAlreadyExist), EtcdErrors.UserAlreadyExist, StatusCode.FailedPrecondition, "etcdserver: user name already exists"),
        (nameof(EtcdErrors.UserEmpty), EtcdErrors.UserEmpty, StatusCode.InvalidArgument, "etcdserver: user name is empty"),
        (nameof(EtcdErrors.UserNotFound), EtcdErrors.UserNotFound, StatusCode.FailedPrecondition, "etcdserver: user name not found"),
        (nameof(EtcdErrors.RoleAlreadyExist), EtcdErrors.RoleAlreadyExist, StatusCode.FailedPrecondition, "etcdserver: role name already exists"),
        (nameof(EtcdErrors.RoleNotFound), EtcdErrors.RoleNotFound, StatusCode.FailedPrecondition, "etcdserver: role name not found"),
        (nameof(EtcdErrors.RoleEmpty), EtcdErrors.RoleEmpty, StatusCode.InvalidArgument, "etcdserver: role name is empty"),
        (nameof(EtcdErrors.AuthFailed), EtcdErrors.AuthFailed, StatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password"),
        (nameof(EtcdErrors.PermissionDenied), EtcdErrors.PermissionDenied, StatusCode.PermissionDenied, "etcdserver: permission denied"),
        (nameof(EtcdErrors.RoleNotGranted), EtcdErrors.RoleNotGranted, StatusCode.FailedPrecondition, "etcdserver: role is not granted to the user"),
        (nameof(EtcdErrors.PermissionNotGranted), EtcdErrors.PermissionNotGranted, StatusCode.FailedPrecondition, "etcdserver: permission is not granted to the role"),
        (nameof(EtcdErrors.AuthNotEnabled), EtcdErrors.AuthNotEnabled, StatusCode.FailedPrecondition, "etcdserver: authentication is not enabled"),
        (nameof(EtcdErrors.InvalidAuthToken), EtcdErrors.InvalidAuthToken, StatusCode.Unauthenticated, "etcdserver: invalid auth token"),
        (nameof(EtcdErrors.InvalidAuthManagement), EtcdErrors.InvalidAuthManagement, StatusCode.InvalidArgument, "etcdserver: invalid auth management"),
        (nameof(EtcdErrors.AuthOldRevision), EtcdErrors.AuthOldRevision, StatusCode.InvalidArgument, "etcdserver: revision of auth store is old"),
        (nameof(EtcdErrors.AuthVerifyOnly), EtcdErrors.AuthVerifyOnly, StatusCode.Unknown, "auth: token signing attempted with verify-only key"),
        (nameof(EtcdErrors.TooManyUnreadAnswers), EtcdErrors.TooManyUnreadAnswers, StatusCode.Unavailable, "kvorum: too many large answers are waiting for their clients to read them; try again later"),
        (nameof(EtcdErrors.MaintenancePermissionDenied), EtcdErrors.MaintenancePermissionDenied, StatusCode.Unknown, "auth: permission denied"),
        (nameof(EtcdErrors.MaintenanceUserEmpty), EtcdErrors.MaintenanceUserEmpty, StatusCode.Unknown, "auth: user name is empty"),
        (nameof(EtcdErrors.MaintenanceUserNotFound), EtcdErrors.MaintenanceUserNotFound, StatusCode.Unknown, "auth: user name not found"),
        (nameof(EtcdErrors.WaitCanceled), EtcdErrors.WaitCanceled("a watch's cancel reason"), StatusCode.Unknown, "a watch's cancel reason"),
    }.ToDictionary(e => e.Item1, e => (e.Item2, e.Item3, e.Item4));

    public static TheoryData<string> Entries => [.. Expected.Keys];

    [Theory]
    [MemberData(nameof(Entries))]
    public void Each_entry_is_sent_with_its_status_and_text(string name)
    {
        var (error, code, text) = Expected[name];
        Assert.Equal((code, text), (error.Code, error.Message));

        var sent = EtcdCall.ToRpcException(error);
        Assert.Equal((code, text), (sent.StatusCode, sent.Status.Detail));
        Assert.True(error.Matches(sent));
    }

    [Fact]
    public void Every_entry_of_the_catalogue_is_in_the_table()
    {
        var declared = typeof(EtcdErrors).GetMembers(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m is FieldInfo { FieldType: var f } && f == typeof(EtcdError) || m is MethodInfo { ReturnType: var r } && r == typeof(EtcdError))
            .Select(m => m.Name)
            .Order(StringComparer.Ordinal);
        Assert.Equal(Expected.Keys.Order(StringComparer.Ordinal), declared);
    }

    [Fact]
    public void No_two_entries_share_a_text()
    {
        var texts = Expected.Values.Select(e => e.Text).ToList();
        Assert.Equal(texts.Count, texts.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task Lock_and_election_handlers_send_every_failure_as_Unknown_with_its_text()
    {
        var own = await Assert.ThrowsAsync<RpcException>(() => EtcdCall.RunAsUnknown<int>(() => throw new EtcdException(EtcdErrors.ElectionNoLeader)));
        Assert.Equal((StatusCode.Unknown, EtcdErrors.ElectionNoLeader.Message), (own.StatusCode, own.Status.Detail));
        var relayed = await Assert.ThrowsAsync<RpcException>(() => EtcdCall.RunAsUnknown<int>(() => throw EtcdCall.ToRpcException(EtcdErrors.LeaseNotFound)));
        Assert.Equal((StatusCode.Unknown, EtcdErrors.LeaseNotFound.Message), (relayed.StatusCode, relayed.Status.Detail));
    }

    [Fact]
    public async Task An_etcd_exception_from_a_handler_is_sent_as_its_error()
    {
        var sent = await Assert.ThrowsAsync<RpcException>(() => EtcdCall.Run<int>(() => throw new EtcdException(EtcdErrors.Compacted)));
        Assert.Equal((StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted"), (sent.StatusCode, sent.Status.Detail));

        var faulted = await Assert.ThrowsAsync<RpcException>(() => EtcdCall.Run(() => Task.FromException<int>(new EtcdException(EtcdErrors.NoLeader))));
        Assert.True(EtcdErrors.NoLeader.Matches(faulted));
    }

    [Fact]
    public async Task Other_exceptions_from_a_handler_are_left_to_grpc()
    {
        await Assert.ThrowsAsync<IOException>(() => EtcdCall.Run<int>(() => throw new IOException("disk")));
        var rpc = new RpcException(new Status(StatusCode.Aborted, "as is"));
        Assert.Same(rpc, await Assert.ThrowsAsync<RpcException>(() => EtcdCall.Run<int>(() => throw rpc)));
    }

    [Fact]
    public void An_etcd_exception_carries_its_error_and_text()
    {
        var e = new EtcdException(EtcdErrors.MemberNotFound);
        Assert.Same(EtcdErrors.MemberNotFound, e.Error);
        Assert.Equal("etcdserver: member not found", e.Message);
    }
}
