using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Auth;

/// <summary>
/// A watch needs read permission on its key or range when it is created; etcd refuses one without it as it refuses
/// other bad watches, with <c>created</c> and <c>canceled</c> and the permission error's text as the reason.
/// </summary>
internal static class WatchPermission
{
    /// <summary>True when <paramref name="who"/> may read what <paramref name="create"/> watches.</summary>
    public static bool Allows(AuthData data, AuthInfo who, WatchCreateRequest create)
    {
        try
        {
            RequestPermissions.CheckRead(data, who, create.Key, create.RangeEnd);
            return true;
        }
        catch (EtcdException)
        {
            return false;
        }
    }

    /// <summary>The answer to a watch refused for lack of permission: etcd sends the gRPC error's full text as the reason.</summary>
    public static WatchResponse Refusal(long revision) => new()
    {
        Header = new ResponseHeader { Revision = revision },
        WatchId = -1,
        Created = true,
        Canceled = true,
        CancelReason = $"rpc error: code = {EtcdErrors.PermissionDenied.Code} desc = {EtcdErrors.PermissionDenied.Message}",
    };
}
