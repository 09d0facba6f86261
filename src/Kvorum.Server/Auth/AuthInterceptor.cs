using Grpc.Core;
using Grpc.Core.Interceptors;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;

namespace Kvorum.Server.Auth;

/// <summary>
/// Resolves the <c>token</c> metadata of every client call to the user it is made as (<see cref="CallAuth"/>; a token
/// got from another member waits until this one has applied its login, <see cref="KvorumNode.ResolveTokenAsync"/>), refusing
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

    // Each handler continues at once when the token resolves at once, the usual case: no state machine and no closure
    // (the slow paths below take their arguments rather than capture them, so the fast path allocates nothing more).
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var authorized = AuthorizeAsync(context);
        return authorized.IsCompletedSuccessfully ? continuation(request, context) : UnaryLaterAsync(authorized, continuation, request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var authorized = AuthorizeAsync(context);
        return authorized.IsCompletedSuccessfully ? continuation(requestStream, context) : ClientStreamingLaterAsync(authorized, continuation, requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var authorized = AuthorizeAsync(context);
        return authorized.IsCompletedSuccessfully ? continuation(request, responseStream, context) : ServerStreamingLaterAsync(authorized, continuation, request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var authorized = AuthorizeAsync(context);
        return authorized.IsCompletedSuccessfully ? continuation(requestStream, responseStream, context) : DuplexLaterAsync(authorized, continuation, requestStream, responseStream, context);
    }

    // The slow paths: the call runs once its token has resolved (it waited for its login to apply here).
    private static async Task<TResponse> UnaryLaterAsync<TRequest, TResponse>(ValueTask authorized, UnaryServerMethod<TRequest, TResponse> continuation, TRequest request, ServerCallContext context)
        where TRequest : class
        where TResponse : class
    {
        await authorized.ConfigureAwait(false);
        return await continuation(request, context).ConfigureAwait(false);
    }

    private static async Task<TResponse> ClientStreamingLaterAsync<TRequest, TResponse>(ValueTask authorized, ClientStreamingServerMethod<TRequest, TResponse> continuation, IAsyncStreamReader<TRequest> requestStream, ServerCallContext context)
        where TRequest : class
        where TResponse : class
    {
        await authorized.ConfigureAwait(false);
        return await continuation(requestStream, context).ConfigureAwait(false);
    }

    private static async Task ServerStreamingLaterAsync<TRequest, TResponse>(ValueTask authorized, ServerStreamingServerMethod<TRequest, TResponse> continuation, TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context)
        where TRequest : class
        where TResponse : class
    {
        await authorized.ConfigureAwait(false);
        await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    private static async Task DuplexLaterAsync<TRequest, TResponse>(ValueTask authorized, DuplexStreamingServerMethod<TRequest, TResponse> continuation, IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context)
        where TRequest : class
        where TResponse : class
    {
        await authorized.ConfigureAwait(false);
        await continuation(requestStream, responseStream, context).ConfigureAwait(false);
    }

    /// <summary>
    /// Resolves the call's user (waiting, for a token got from another member, until this one has applied its login)
    /// and refuses a root-only call made by anyone else.
    /// </summary>
    private ValueTask AuthorizeAsync(ServerCallContext context)
    {
        if (string.Equals(context.Method, AuthenticateMethod, StringComparison.Ordinal))
            return ValueTask.CompletedTask;
        var token = CallAuth.Token(context);
        // Without a token: the certificate's user, or the one the member's own Lock and Election client calls for.
        var certificateUser = token is null ? _certificateUser.NameOf(context) ?? LoopbackCaller.CertificateUserOf(context) : null;
        if (certificateUser is not null)
        {
            Authorize(context, ByCertificate(certificateUser));
            return ValueTask.CompletedTask;
        }
        ValueTask<AuthInfo> resolving;
        try
        {
            resolving = node.ResolveTokenAsync(token, context.CancellationToken);
        }
        catch (EtcdException e)
        {
            throw EtcdCall.ToRpcException(e.Error);
        }
        if (resolving.IsCompletedSuccessfully)
        {
            Authorize(context, resolving.Result);
            return ValueTask.CompletedTask;
        }
        return AuthorizeLaterAsync(context, resolving);
    }

    private async ValueTask AuthorizeLaterAsync(ServerCallContext context, ValueTask<AuthInfo> resolving)
    {
        AuthInfo who;
        try
        {
            who = await resolving.ConfigureAwait(false);
        }
        catch (EtcdException e)
        {
            throw EtcdCall.ToRpcException(e.Error);
        }
        Authorize(context, who);
    }

    private void Authorize(ServerCallContext context, AuthInfo who)
    {
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
