using Grpc.Core;
using Grpc.Core.Interceptors;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;

namespace Kvorum.Server.Auth;

/// <summary>
/// Resolves the <c>token</c> metadata of every client call to the user it is made as (<see cref="CallAuth"/>), refusing
/// a token the member does not know with "invalid auth token", and refuses the calls only root may make before they
/// run: membership changes (etcd's answer, "etcdserver: permission denied") and the Maintenance calls that read or
/// rewrite the whole store (etcd's maintenance server answers those with the auth store's own error, as Unknown).
/// Without a token, under <c>--client-cert-auth</c>, the call is made as its certificate's CN (<see cref="CertificateUser"/>),
/// and a Lock or Election service's call for such a client as that client's user (<see cref="LoopbackCaller"/>).
/// The key-value, watch and lease calls check their keys themselves; the Auth service its changes when they apply.
/// </summary>
internal sealed class AuthInterceptor(KvorumNode node, ServerOptions options) : Interceptor
{
    private readonly CertificateUser _certificateUser = new(options);

    /// <summary>The Authenticate method, which needs no token (it is how a client gets one).</summary>
    private const string AuthenticateMethod = "/etcdserverpb.Auth/Authenticate";

    private static readonly HashSet<string> MembershipChanges = new(StringComparer.Ordinal)
    {
        "/etcdserverpb.Cluster/MemberAdd",
        "/etcdserverpb.Cluster/MemberRemove",
        "/etcdserverpb.Cluster/MemberUpdate",
        "/etcdserverpb.Cluster/MemberPromote",
    };

    private static readonly HashSet<string> WholeStoreMaintenance = new(StringComparer.Ordinal)
    {
        "/etcdserverpb.Maintenance/Defragment",
        "/etcdserverpb.Maintenance/Hash",
        "/etcdserverpb.Maintenance/HashKV",
        "/etcdserverpb.Maintenance/Snapshot",
    };

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        Authorize(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        Authorize(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        Authorize(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        Authorize(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Authorize(ServerCallContext context)
    {
        if (string.Equals(context.Method, AuthenticateMethod, StringComparison.Ordinal))
            return;
        AuthInfo who;
        try
        {
            var token = CallAuth.Token(context);
            // Without a token: the certificate's user, or the one the member's own Lock and Election client calls for.
            var certificateUser = token is null ? _certificateUser.NameOf(context) ?? LoopbackCaller.CertificateUserOf(context) : null;
            who = certificateUser is not null ? ByCertificate(certificateUser) : node.ResolveToken(token);
        }
        catch (EtcdException e)
        {
            throw EtcdCall.ToRpcException(e.Error);
        }
        CallAuth.Set(context, who);
        if (MembershipChanges.Contains(context.Method))
            CheckRoot(who, maintenance: false);
        else if (WholeStoreMaintenance.Contains(context.Method))
            CheckRoot(who, maintenance: true);
    }

    /// <summary>A call known by its certificate: its CN at the current auth revision, or no one with authentication off.</summary>
    private AuthInfo ByCertificate(string name)
    {
        var data = node.AuthState;
        return data.Enabled ? new AuthInfo(name, data.Revision) : AuthInfo.None;
    }

    private void CheckRoot(AuthInfo who, bool maintenance)
    {
        try
        {
            RequestPermissions.CheckAdmin(node.AuthState, who);
        }
        catch (EtcdException e)
        {
            var error = !maintenance ? e.Error
                : e.Error == EtcdErrors.UserEmpty ? EtcdErrors.MaintenanceUserEmpty
                : e.Error == EtcdErrors.UserNotFound ? EtcdErrors.MaintenanceUserNotFound
                : EtcdErrors.MaintenancePermissionDenied;
            throw EtcdCall.ToRpcException(error);
        }
    }
}
