using Grpc.Core;
using Grpc.Core.Interceptors;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;

namespace Kvorum.Server.Api;

/// <summary>
/// etcd's require-leader rule (<c>v3rpc/interceptor.go</c>): a call whose metadata carries <c>hasleader: true</c>
/// (<c>clientv3.WithRequireLeader</c>) fails at once with <c>etcdserver: no leader</c> when the member knows no leader,
/// and a stream that carries it is ended with the same error once the member has gone three election timeouts in a row
/// without one. Calls without the key are left alone.
/// </summary>
/// <remarks>
/// A stream handler learns that its leader is lost through <see cref="LeaderLost"/> and ends itself with the error; a
/// handler that does not look is ended by this interceptor.
/// </remarks>
internal sealed class RequireLeaderInterceptor(KvorumNode node, ServerOptions options) : Interceptor
{
    /// <summary>The metadata key, as etcd's <c>rpctypes.MetadataRequireLeaderKey</c>.</summary>
    public const string MetadataKey = "hasleader";

    /// <summary>The value that asks for a leader.</summary>
    public const string MetadataValue = "true";

    /// <summary>Checks without a leader after which a stream is ended, as etcd's monitor.</summary>
    public const int ChecksWithoutLeader = 3;

    private static readonly object LeaderLostKey = new();

    /// <summary>Fires when <paramref name="context"/>'s call required a leader and the member has lost it; never otherwise.</summary>
    public static CancellationToken LeaderLost(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.UserState.TryGetValue(LeaderLostKey, out var token) ? (CancellationToken)token : CancellationToken.None;
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        CheckLeader(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        CheckLeader(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return Monitored(context, () => continuation(request, responseStream, context));
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return Monitored(context, () => continuation(requestStream, responseStream, context));
    }

    private static bool RequiresLeader(ServerCallContext context) =>
        context.RequestHeaders.GetValue(MetadataKey) is { } value && string.Equals(value, MetadataValue, StringComparison.Ordinal);

    private void CheckLeader(ServerCallContext context)
    {
        if (RequiresLeader(context) && node.Status.Leader == 0)
            throw EtcdCall.ToRpcException(EtcdErrors.NoLeader);
    }

    private async Task Monitored(ServerCallContext context, Func<Task> handler)
    {
        if (!RequiresLeader(context))
        {
            await handler().ConfigureAwait(false);
            return;
        }
        CheckLeader(context);
        using var lost = new CancellationTokenSource();
        using var done = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        context.UserState[LeaderLostKey] = lost.Token;
        var handling = handler();
        var monitoring = WatchLeaderAsync(done.Token);
        if (await Task.WhenAny(handling, monitoring).ConfigureAwait(false) == handling || !await monitoring.ConfigureAwait(false))
        {
            await done.CancelAsync().ConfigureAwait(false);
            await handling.ConfigureAwait(false);
            return;
        }
        await lost.CancelAsync().ConfigureAwait(false);
        // A handler that looks at LeaderLost ends itself with the error; give it a moment, then end the call here.
        if (await Task.WhenAny(handling, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None)).ConfigureAwait(false) == handling)
        {
            await handling.ConfigureAwait(false);
            return;
        }
        _ = handling.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        throw EtcdCall.ToRpcException(EtcdErrors.NoLeader);
    }

    /// <summary>True once the member has gone <see cref="ChecksWithoutLeader"/> checks in a row without a leader; false when <paramref name="done"/> fires.</summary>
    private async Task<bool> WatchLeaderAsync(CancellationToken done)
    {
        var interval = TimeSpan.FromMilliseconds(options.ElectionTimeoutMs);
        var without = 0;
        try
        {
            while (without < ChecksWithoutLeader)
            {
                await Task.Delay(interval, done).ConfigureAwait(false);
                without = node.Status.Leader == 0 ? without + 1 : 0;
            }
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
