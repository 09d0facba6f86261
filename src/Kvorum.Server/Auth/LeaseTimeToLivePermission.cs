using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Auth;

/// <summary>
/// A LeaseTimeToLive that asks for the lease's keys reveals their names, so it needs read permission on each, as etcd
/// has checked since 3.4.26 and 3.5.8 (before, any user could list any lease's keys; the etcd 3.4.23 the differential
/// tests run against still lets them). Without <c>keys</c> nothing is checked. With authentication on, a call without
/// a user is refused ("user name is empty") even for a lease without keys, and an answer made while the auth revision
/// moved is refused with "revision of auth store is old", as etcd does.
/// </summary>
internal static class LeaseTimeToLivePermission
{
    /// <summary>Throws etcd's error when <paramref name="who"/> may not see <paramref name="answer"/>'s keys.</summary>
    /// <param name="data">The auth state now.</param>
    /// <param name="who">The caller.</param>
    /// <param name="answer">The lease's answer, with its keys.</param>
    /// <exception cref="EtcdException">The caller may not read one of the keys, or has no user, or an old revision.</exception>
    public static void Check(AuthData data, AuthInfo who, LeaseTimeToLiveResponse answer)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(answer);
        if (!data.Enabled)
            return;
        if (who.IsEmpty)
            throw new EtcdException(EtcdErrors.UserEmpty);
        foreach (var key in answer.Keys)
            RequestPermissions.CheckRead(data, who, key, ByteString.Empty);
        if (who.Revision != data.Revision)
            throw new EtcdException(EtcdErrors.AuthOldRevision);
    }
}
