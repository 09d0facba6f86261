using Grpc.Core;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// The errors of etcd's key-value API, with etcd's exact messages and gRPC status codes
/// (etcd's <c>rpctypes</c>). Each call returns a fresh exception to throw.
/// </summary>
public static class EtcdErrors
{
    /// <summary>Message for a read or compaction at a revision older than the last compaction.</summary>
    public const string CompactedMessage = "etcdserver: mvcc: required revision has been compacted";

    /// <summary>Message for a write refused because the store is over its quota (<c>--quota-backend-bytes</c>).</summary>
    public const string NoSpaceMessage = "etcdserver: mvcc: database space exceeded";

    /// <summary>Message for a read or compaction at a revision the store has not reached.</summary>
    public const string FutureRevisionMessage = "etcdserver: mvcc: required revision is a future revision";

    /// <summary>Message for a request without a key.</summary>
    public const string EmptyKeyMessage = "etcdserver: key is not provided";

    /// <summary>Message for an ignore_value/ignore_lease put on a missing key, or an empty txn op.</summary>
    public const string KeyNotFoundMessage = "etcdserver: key not found";

    /// <summary>Message for a put that sets both ignore_value and a value.</summary>
    public const string ValueProvidedMessage = "etcdserver: value is provided";

    /// <summary>Message for a put that sets both ignore_lease and a lease.</summary>
    public const string LeaseProvidedMessage = "etcdserver: lease is provided";

    /// <summary>Message for a txn with more compares or ops than allowed.</summary>
    public const string TooManyOpsMessage = "etcdserver: too many operations in txn request";

    /// <summary>Message for a txn that would modify one key twice.</summary>
    public const string DuplicateKeyMessage = "etcdserver: duplicate key given in txn request";

    /// <summary>Message for a put that names a lease that does not exist.</summary>
    public const string LeaseNotFoundMessage = "etcdserver: requested lease not found";

    /// <summary>Message for a membership change that would leave too few voters to form a quorum, such as removing the last one.</summary>
    public const string NotEnoughStartedMembersMessage = "etcdserver: re-configuration failed due to not enough started members";

    /// <summary>
    /// etcd's ErrNotEnoughStartedMembers, which reaches its clients with <see cref="StatusCode.Unknown"/> (etcd 3.4 has no
    /// gRPC mapping for it): a removal that would leave no voter.
    /// </summary>
    /// <returns>A new exception.</returns>
    public static EtcdException NotEnoughStartedMembers() => new(StatusCode.Unknown, NotEnoughStartedMembersMessage);

    /// <summary>The revision asked for has been compacted (<see cref="StatusCode.OutOfRange"/>).</summary>
    /// <returns>A new exception.</returns>
    public static EtcdException Compacted() => new(StatusCode.OutOfRange, CompactedMessage);

    /// <summary>etcd's ErrGRPCNoSpace: a write that would pass the quota, or any write that puts while the NOSPACE alarm is raised.</summary>
    public static EtcdException NoSpace() => new(StatusCode.ResourceExhausted, NoSpaceMessage);

    /// <summary>The revision asked for is newer than the store (<see cref="StatusCode.OutOfRange"/>).</summary>
    /// <returns>A new exception.</returns>
    public static EtcdException FutureRevision() => new(StatusCode.OutOfRange, FutureRevisionMessage);

    /// <summary>The request has no key (<see cref="StatusCode.InvalidArgument"/>).</summary>
    /// <returns>A new exception.</returns>
    public static EtcdException EmptyKey() => new(StatusCode.InvalidArgument, EmptyKeyMessage);

    /// <summary>The key must exist but does not, or a txn op is empty (<see cref="StatusCode.InvalidArgument"/>).</summary>
    /// <returns>A new exception.</returns>
    public static EtcdException KeyNotFound() => new(StatusCode.InvalidArgument, KeyNotFoundMessage);

    /// <summary>ignore_value was set together with a value (<see cref="StatusCode.InvalidArgument"/>).</summary>
    /// <returns>A new exception.</returns>
    public static EtcdException ValueProvided() => new(StatusCode.InvalidArgument, ValueProvidedMessage);

    /// <summary>ignore_lease was set together with a lease (<see cref="StatusCode.InvalidArgument"/>).</summary>
    /// <returns>A new exception.</returns>
    public static EtcdException LeaseProvided() => new(StatusCode.InvalidArgument, LeaseProvidedMessage);

    /// <summary>The txn has too many compares or ops (<see cref="StatusCode.InvalidArgument"/>).</summary>
    /// <returns>A new exception.</returns>
    public static EtcdException TooManyOps() => new(StatusCode.InvalidArgument, TooManyOpsMessage);

    /// <summary>The txn would modify one key twice (<see cref="StatusCode.InvalidArgument"/>).</summary>
    /// <returns>A new exception.</returns>
    public static EtcdException DuplicateKey() => new(StatusCode.InvalidArgument, DuplicateKeyMessage);

    /// <summary>The put names a lease that does not exist (<see cref="StatusCode.NotFound"/>).</summary>
    /// <returns>A new exception.</returns>
    public static EtcdException LeaseNotFound() => new(StatusCode.NotFound, LeaseNotFoundMessage);
}
