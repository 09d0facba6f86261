using System.Diagnostics;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// Keeps one lease alive over a <c>LeaseKeepAlive</c> stream the way etcd's Go client does: a renewal at once,
/// then one every third of the TTL the last answer gave, until an answer says the lease is gone (TTL ≤ 0).
/// </summary>
internal static class LeaseKeepAlive
{
    /// <summary>The shortest pause between renewals, so that a 1 s lease is not renewed in a busy loop.</summary>
    private static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>The pause before a broken stream is opened again on the next endpoint.</summary>
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Renews the lease over <paramref name="connection"/>'s endpoints until it is gone or
    /// <paramref name="cancellation"/> fires, as etcd's client does through its balancer: a stream that breaks (its
    /// member died, restarts, or has no leader) is opened again on the next endpoint. It gives up once the lease's TTL
    /// has passed since the last answer — the lease may have expired meanwhile — or, before any answer,
    /// <paramref name="firstAnswerWithin"/>; then the last failure is thrown.
    /// </summary>
    /// <param name="connection">The endpoints, tried in turn from the first.</param>
    /// <param name="id">The lease.</param>
    /// <param name="firstAnswerWithin">How long to try before the first answer (the command timeout).</param>
    /// <param name="cancellation">Ends the renewals.</param>
    /// <returns>The answers; the last has TTL ≤ 0 when the lease expired or was revoked.</returns>
    /// <exception cref="RpcException">No endpoint renewed the lease in time.</exception>
    public static async IAsyncEnumerable<LeaseKeepAliveResponse> RenewAsync(
        EtcdConnection connection, long id, TimeSpan firstAnswerWithin, [EnumeratorCancellation] CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var at = 0;
        var lastAnswer = Stopwatch.GetTimestamp();
        var patience = firstAnswerWithin;
        while (true)
        {
            Exception failure;
            var renewals = RenewAsync(connection.Channel(connection.Endpoints[at]), id, cancellation).GetAsyncEnumerator(cancellation);
            try
            {
                while (true)
                {
                    LeaseKeepAliveResponse answer;
                    try
                    {
                        if (!await renewals.MoveNextAsync().ConfigureAwait(false))
                            yield break;
                        answer = renewals.Current;
                    }
                    catch (Exception e) when (!cancellation.IsCancellationRequested && IsBrokenStream(e))
                    {
                        failure = e;
                        break;
                    }
                    lastAnswer = Stopwatch.GetTimestamp();
                    patience = TimeSpan.FromSeconds(Math.Max(answer.TTL, 1));
                    yield return answer;
                }
            }
            finally
            {
                await renewals.DisposeAsync().ConfigureAwait(false);
            }
            if (Stopwatch.GetElapsedTime(lastAnswer) >= patience)
                throw failure as RpcException ?? new RpcException(new Status(StatusCode.Unavailable, failure.Message));
            at = (at + 1) % connection.Endpoints.Count;
            await Task.Delay(RetryDelay, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether <paramref name="error"/> broke the stream rather than answered the request: the member went away, has
    /// no leader, or ended the stream. A refusal of the request itself (a bad id, no permission) is not retried.
    /// </summary>
    private static bool IsBrokenStream(Exception error) => error switch
    {
        RpcException rpc => rpc.StatusCode is not (StatusCode.InvalidArgument or StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.NotFound or StatusCode.FailedPrecondition),
        IOException or InvalidOperationException => true,
        _ => false,
    };

    /// <summary>Renews the lease until it is gone or <paramref name="cancellation"/> fires; yields each answer.</summary>
    /// <param name="channel">The channel to the server.</param>
    /// <param name="id">The lease.</param>
    /// <param name="cancellation">Ends the renewals (the stream is cancelled).</param>
    /// <returns>The answers; the last has TTL ≤ 0 when the lease expired or was revoked.</returns>
    /// <exception cref="RpcException">The stream failed.</exception>
    public static async IAsyncEnumerable<LeaseKeepAliveResponse> RenewAsync(GrpcChannel channel, long id, [EnumeratorCancellation] CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(channel);
        using var call = new Lease.LeaseClient(channel).LeaseKeepAlive(cancellationToken: cancellation);
        while (true)
        {
            var answer = await RenewOnceAsync(call, id, cancellation).ConfigureAwait(false);
            yield return answer;
            if (answer.TTL <= 0)
                yield break;
            var interval = TimeSpan.FromSeconds(answer.TTL / 3.0);
            await Task.Delay(interval < MinimumInterval ? MinimumInterval : interval, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>One renewal on a stream of its own (etcdctl's <c>--once</c>).</summary>
    /// <param name="channel">The channel to the server.</param>
    /// <param name="id">The lease.</param>
    /// <param name="deadline">The call's deadline.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The answer (TTL ≤ 0: the server does not know the lease).</returns>
    /// <exception cref="RpcException">The stream failed.</exception>
    public static async Task<LeaseKeepAliveResponse> RenewOnceAsync(GrpcChannel channel, long id, DateTime deadline, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(channel);
        using var call = new Lease.LeaseClient(channel).LeaseKeepAlive(deadline: deadline, cancellationToken: cancellation);
        var answer = await RenewOnceAsync(call, id, cancellation).ConfigureAwait(false);
        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        return answer;
    }

    private static async Task<LeaseKeepAliveResponse> RenewOnceAsync(
        AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> call, long id, CancellationToken cancellation)
    {
        await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }, cancellation).ConfigureAwait(false);
        if (!await call.ResponseStream.MoveNext(cancellation).ConfigureAwait(false))
            throw new RpcException(new Status(StatusCode.Unavailable, "the server ended the keep-alive stream"));
        return call.ResponseStream.Current;
    }
}
