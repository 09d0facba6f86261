using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Auth;

/// <summary>
/// Whether a user may make a request, as etcd decides it: nothing is checked while authentication is disabled;
/// otherwise a request needs a token, a token resolved at the current auth revision, a user that exists, and either the
/// root role or permissions on every key the request reads and writes. A txn needs read permission on every compare's
/// keys and permission for every operation of both branches; a put with a lease, write permission on the lease's keys;
/// <c>prev_kv</c>, read permission too. Each check throws the <see cref="EtcdException"/> etcd answers with.
/// </summary>
internal static class RequestPermissions
{
    /// <summary>A range read of <paramref name="key"/> up to <paramref name="rangeEnd"/> (empty: that key alone).</summary>
    public static void CheckRead(AuthData data, AuthInfo who, ByteString key, ByteString rangeEnd) =>
        Check(data, who, key, rangeEnd, write: false);

    /// <summary>A write of <paramref name="key"/> up to <paramref name="rangeEnd"/> (empty: that key alone).</summary>
    public static void CheckWrite(AuthData data, AuthInfo who, ByteString key, ByteString rangeEnd) =>
        Check(data, who, key, rangeEnd, write: true);

    /// <summary>A put; <paramref name="leaseKeys"/> gives the keys its lease holds already.</summary>
    public static void CheckPut(AuthData data, AuthInfo who, PutRequest put, Func<long, IReadOnlyList<ByteString>> leaseKeys)
    {
        CheckWrite(data, who, put.Key, ByteString.Empty);
        if (data.Enabled && put.Lease != 0)
            CheckLeaseKeys(data, who, leaseKeys(put.Lease));
        if (put.PrevKv)
            CheckRead(data, who, put.Key, ByteString.Empty);
    }

    /// <summary>A lease revoke, or a put that attaches to a lease: deleting the lease's keys needs write permission on each.</summary>
    public static void CheckLeaseKeys(AuthData data, AuthInfo who, IReadOnlyList<ByteString> keys)
    {
        foreach (var key in keys)
            CheckWrite(data, who, key, ByteString.Empty);
    }

    /// <summary>A delete; with <c>prev_kv</c>, the deleted pairs are read too.</summary>
    public static void CheckDelete(AuthData data, AuthInfo who, DeleteRangeRequest delete)
    {
        CheckWrite(data, who, delete.Key, delete.RangeEnd);
        if (delete.PrevKv)
            CheckRead(data, who, delete.Key, delete.RangeEnd);
    }

    /// <summary>A txn: every compare, and every operation of both branches (nested txns included).</summary>
    public static void CheckTxn(AuthData data, AuthInfo who, TxnRequest txn)
    {
        if (!data.Enabled)
            return;
        foreach (var c in txn.Compare)
            CheckRead(data, who, c.Key, c.RangeEnd);
        CheckOps(data, who, txn.Success);
        CheckOps(data, who, txn.Failure);
    }

    private static void CheckOps(AuthData data, AuthInfo who, IEnumerable<RequestOp> ops)
    {
        foreach (var op in ops)
        {
            switch (op.RequestCase)
            {
                case RequestOp.RequestOneofCase.RequestRange:
                    CheckRead(data, who, op.RequestRange.Key, op.RequestRange.RangeEnd);
                    break;
                case RequestOp.RequestOneofCase.RequestPut:
                    CheckWrite(data, who, op.RequestPut.Key, ByteString.Empty);
                    if (op.RequestPut.PrevKv)
                        CheckRead(data, who, op.RequestPut.Key, ByteString.Empty);
                    break;
                case RequestOp.RequestOneofCase.RequestDeleteRange:
                    CheckDelete(data, who, op.RequestDeleteRange);
                    break;
                case RequestOp.RequestOneofCase.RequestTxn:
                    CheckTxn(data, who, op.RequestTxn);
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>
    /// A request only root may make (auth changes, membership changes): refused without a token, for a user that does
    /// not exist, and for a user without the root role.
    /// </summary>
    public static void CheckAdmin(AuthData data, AuthInfo who)
    {
        if (!data.Enabled)
            return;
        if (string.IsNullOrEmpty(who.User))
            throw new EtcdException(EtcdErrors.UserEmpty);
        var user = data.UserNamed(who.User) ?? throw new EtcdException(EtcdErrors.UserNotFound);
        if (!AuthData.HasRootRole(user))
            throw new EtcdException(EtcdErrors.PermissionDenied);
    }

    private static void Check(AuthData data, AuthInfo who, ByteString key, ByteString rangeEnd, bool write)
    {
        if (!data.Enabled)
            return;
        if (who.Revision == 0)
            throw new EtcdException(EtcdErrors.UserEmpty);
        if (who.Revision < data.Revision)
            throw new EtcdException(EtcdErrors.AuthOldRevision);
        var user = data.UserNamed(who.User) ?? throw new EtcdException(EtcdErrors.PermissionDenied);
        if (AuthData.HasRootRole(user))
            return;
        var roles = user.Roles.Select(data.RoleNamed).OfType<Role>();
        if (!KeyPermissions.Of(roles, write).Allows(key, rangeEnd))
            throw new EtcdException(EtcdErrors.PermissionDenied);
    }
}
