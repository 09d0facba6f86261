using Kvorum.Server.Auth;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;
using Kvorum.Server.Watch;

namespace Kvorum.Server.Api;

/// <summary>
/// One Watch call: reads the client's requests and hands them to the loop's registry; one writer sends the stream's
/// queue (<see cref="WatchStream.Outgoing"/>) in order, filling etcd's header and splitting what watchers created with
/// <c>fragment</c> asked to be split; a timer asks for progress notifications at the progress interval.
/// </summary>
/// <remarks>
/// The call ends when the client cancels it (a half-close does not end it, as in etcd), and otherwise with
/// Unavailable: <c>etcdserver: server stopped</c> when the member stops, <c>etcdserver: no leader</c> when the call
/// required a leader and the member lost it (<see cref="RequireLeaderInterceptor"/>). Either makes etcd's clients
/// reconnect and resume from their last revision + 1 (or give up, on no leader, as etcd's do).
/// </remarks>
internal sealed class WatchStreamSession(KvorumNode node, ServerOptions options, ServerCallContext context)
{
    /// <summary>What gRPC adds to a message on top of the request limit, as etcd's <c>grpcOverheadBytes</c>.</summary>
    private const int GrpcOverheadBytes = 512 * 1024;

    /// <summary>Bytes written without a flush at most before one is forced, so a long batch still goes out in pieces.</summary>
    private const long MaxUnflushedBytes = 64 * 1024;

    /// <summary>What an answer without a counted size (created, canceled, progress) is taken to weigh.</summary>
    private const long EstimatedBytesOfAnswer = 64;

    /// <summary>A write that stays in the call's buffer until a later one flushes it.</summary>
    private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);

    /// <summary>A write that flushes the call's buffer, with it.</summary>
    private static readonly WriteOptions Flushed = new();

    private readonly WatchStream _stream = new();

    /// <summary>Serves the call until it ends.</summary>
    /// <param name="requests">The client's requests.</param>
    /// <param name="responses">Where responses go.</param>
    /// <param name="stopping">Fires when the member's host stops.</param>
    /// <param name="leaderLost">Fires when the call required a leader and the member has gone without one too long.</param>
    /// <exception cref="RpcException">The member stopped or lost its leader.</exception>
    public async Task RunAsync(IAsyncStreamReader<WatchRequest> requests, IServerStreamWriter<WatchResponse> responses, CancellationToken stopping, CancellationToken leaderLost)
    {
        if (!node.OnWatchers(registry => registry.Open(_stream)))
            throw EtcdCall.ToRpcException(EtcdErrors.ServerStopped);
        node.ClientStreamStarted();
        try
        {
            await ServeAsync(requests, responses, stopping, leaderLost).ConfigureAwait(false);
        }
        finally
        {
            node.ClientStreamEnded();
        }
    }

    private async Task ServeAsync(IAsyncStreamReader<WatchRequest> requests, IServerStreamWriter<WatchResponse> responses, CancellationToken stopping, CancellationToken leaderLost)
    {
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        using var onStopping = stopping.UnsafeRegister(static s => ((WatchStream)s!).End(EtcdErrors.ServerStopped), _stream);
        using var onLeaderLost = leaderLost.UnsafeRegister(static s => ((WatchStream)s!).End(EtcdErrors.NoLeader), _stream);
        _ = node.Stopped.ContinueWith(static (_, s) => ((WatchStream)s!).End(EtcdErrors.ServerStopped), _stream, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        var reading = ReadAsync(requests, ended.Token);
        var ticking = NotifyProgressAsync(ended.Token);
        try
        {
            await WriteAsync(responses, ended.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The client left.
        }
        catch (EtcdException e)
        {
            throw EtcdCall.ToRpcException(e.Error);
        }
        catch (ChannelClosedException e) when (e.InnerException is EtcdException inner)
        {
            throw EtcdCall.ToRpcException(inner.Error);
        }
        finally
        {
            await ended.CancelAsync().ConfigureAwait(false);
            node.OnWatchers(registry => registry.Close(_stream));
            await reading.ConfigureAwait(false);
            await ticking.ConfigureAwait(false);
        }
    }

    private async Task ReadAsync(IAsyncStreamReader<WatchRequest> requests, CancellationToken ended)
    {
        try
        {
            while (await requests.MoveNext(ended).ConfigureAwait(false))
            {
                var request = requests.Current;
                switch (request.RequestUnionCase)
                {
                    case WatchRequest.RequestUnionOneofCase.CreateRequest:
                        var create = request.CreateRequest;
                        var who = CallAuth.Of(context);
                        node.OnWatchers(registry =>
                        {
                            // A watch on keys the user may not read is refused, as etcd refuses it.
                            if (WatchPermission.Allows(node.AuthState, who, create))
                                registry.Create(_stream, create);
                            else
                                _stream.Send(WatchPermission.Refusal(node.Status.Revision));
                        });
                        break;
                    case WatchRequest.RequestUnionOneofCase.CancelRequest:
                        var id = request.CancelRequest.WatchId;
                        node.OnWatchers(registry => registry.Cancel(_stream, id));
                        break;
                    case WatchRequest.RequestUnionOneofCase.ProgressRequest:
                        node.OnWatchers(registry => registry.RequestProgress(_stream));
                        break;
                    default:
                        break; // a request with nothing set is ignored, as etcd does
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException or RpcException)
        {
            // The call ended under the reader; the writer ends the call.
        }
    }

    private async Task NotifyProgressAsync(CancellationToken ended)
    {
        // etcd's interval plus up to a tenth more, so that the streams of many clients do not tick together.
        var interval = options.WatchProgressNotifyInterval;
        try
        {
            while (true)
            {
                var jitter = TimeSpan.FromTicks(Random.Shared.NextInt64(Math.Max(1, interval.Ticks / 10)));
                await Task.Delay(interval + jitter, ended).ConfigureAwait(false);
                node.OnWatchers(registry => registry.NotifyProgress(_stream));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task WriteAsync(IServerStreamWriter<WatchResponse> responses, CancellationToken ended)
    {
        var queue = _stream.Outgoing;
        var limit = options.MaxRequestBytes + GrpcOverheadBytes;
        while (await queue.WaitToReadAsync(ended).ConfigureAwait(false))
        {
            // What the loop queued together goes out in one flush: a response is only buffered while another is
            // already waiting behind it, so the last of a batch is always flushed and nothing waits for a later one.
            var unflushed = 0L;
            while (queue.TryRead(out var item))
            {
                var response = item.Response;
                FillHeader(response.Header ??= new ResponseHeader());
                var more = queue.TryPeek(out _) && unflushed < MaxUnflushedBytes;
                try
                {
                    if (item.Watcher is { Fragment: true } && response.Events.Count > 1 && response.CalculateSize() >= limit)
                    {
                        foreach (var fragment in WatchFragments.Split(response, limit))
                        {
                            responses.WriteOptions = Flushed;
                            await responses.WriteAsync(fragment, ended).ConfigureAwait(false);
                        }
                        unflushed = 0;
                    }
                    else
                    {
                        responses.WriteOptions = more ? Buffered : Flushed;
                        await responses.WriteAsync(response, ended).ConfigureAwait(false);
                        unflushed = more ? unflushed + Math.Max(item.Bytes, EstimatedBytesOfAnswer) : 0;
                    }
                }
                finally
                {
                    if (item.Watcher is { } watcher)
                    {
                        watcher.Pending.Remove(item.Bytes);
                        if (watcher.TakeDrained())
                            node.OnWatchers(registry => registry.CatchUpDrained(watcher));
                    }
                }
            }
        }
    }

    /// <summary>etcd's header: this member's cluster, id and term; the revision the registry set, 0 included.</summary>
    private void FillHeader(ResponseHeader header)
    {
        header.ClusterId = node.ClusterId;
        header.MemberId = node.MemberId;
        header.RaftTerm = node.Status.Term;
    }
}
