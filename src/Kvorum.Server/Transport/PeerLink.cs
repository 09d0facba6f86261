using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Raft;
using Microsoft.Extensions.Logging;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Server.Transport;

/// <summary>
/// Everything that goes to one peer: a bounded queue that <see cref="Send"/> fills without blocking, one
/// sender task that drains the queue into batches over a long-lived <c>Stream</c> call (reconnecting with
/// backoff when it breaks), and snapshot uploads over <c>Snapshot</c> calls.
/// </summary>
/// <remarks>
/// States: Connecting (new link, first attempt under way) → Up (handshake accepted) → Down (an attempt or
/// the stream failed) → Up … While Down, <see cref="Send"/> drops messages without encoding them, so a dead
/// peer costs the node's loop one volatile read per message. Messages queued when the stream breaks are
/// dropped too: Raft retransmits what matters, and stale appends would only waste the new stream.
/// </remarks>
internal sealed partial class PeerLink : IAsyncDisposable
{
    private enum State
    {
        Connecting,
        Up,
        Down,
    }

    private readonly ulong _self;
    private readonly ulong _peer;
    private readonly ulong _clusterId;
    private readonly IRaftMessageSink _sink;
    private readonly ILogger _logger;
    private readonly TransportOptions _options;

    /// <summary>One channel per URL of the peer (same order as <see cref="Urls"/>); attempts rotate through them.</summary>
    private readonly GrpcChannel[] _channels;

    /// <summary>Encoded messages waiting for the sender task. Many writers (Send), one reader (the sender task).</summary>
    private readonly Channel<Wire.RaftMessage> _queue;

    /// <summary>Cancelled by <see cref="DisposeAsync"/>; ends the sender task and every upload.</summary>
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Snapshot uploads in flight, awaited by <see cref="DisposeAsync"/> before the channels are disposed.</summary>
    private readonly ConcurrentDictionary<Task, byte> _uploads = new();

    private readonly Task _sender;

    /// <summary>Written only by the sender task; read by <see cref="Send"/> on the node's loop.</summary>
    private volatile State _state = State.Connecting;

    /// <summary>
    /// When (<see cref="Stopwatch.GetTimestamp"/>) the stream now up was accepted; 0 while the link is not up. Written
    /// only by the sender task; read by <see cref="ConnectedFor"/> on the node's loop.
    /// </summary>
    private long _upSince;

    /// <summary>Index of the URL in use. Written only by the sender task; uploads read whichever value is current.</summary>
    private volatile int _current;

    /// <summary>Released by <see cref="HeardFromPeer"/> to cut a reconnection backoff short.</summary>
    private readonly SemaphoreSlim _peerIsUp = new(0, 1);

    /// <summary>
    /// Cancels the attempt under way (its connect, handshake or stream); replaced by the sender task for each
    /// attempt. <see cref="HeardFromPeer"/> cancels an attempt that is not yet up, so that a connect stuck on a
    /// path that was cut (SYNs lost until the partition healed) is retried at once instead of timing out.
    /// </summary>
    private volatile CancellationTokenSource? _attempt;

    /// <summary>
    /// The socket the handler's connect callback opened last, until a stream over it is accepted. Closed by
    /// <see cref="HeardFromPeer"/>: cancelling the attempt alone would leave the HTTP handler waiting on the
    /// same connection, as it shares one pending connection between requests.
    /// </summary>
    private Socket? _unconfirmed;

    /// <summary>When (<see cref="Environment.TickCount64"/>) <see cref="HeardFromPeer"/> last cut a backoff short.</summary>
    private long _lastCutShort = long.MinValue / 2;

    /// <summary>Creates the link and starts its sender task, which connects in the background.</summary>
    public PeerLink(ulong self, ulong peer, IReadOnlyList<Uri> urls, ulong clusterId, IRaftMessageSink sink, ILogger logger, TransportOptions options)
    {
        _self = self;
        _peer = peer;
        _clusterId = clusterId;
        _sink = sink;
        _logger = logger;
        _options = options;
        Urls = [.. urls];
        _channels = [.. Urls.Select(url => GrpcChannel.ForAddress(url, options.ChannelOptions(HttpKeepAlivePingPolicy.Always, socket => Volatile.Write(ref _unconfirmed, socket))))];
        _queue = Channel.CreateBounded<Wire.RaftMessage>(new BoundedChannelOptions(options.QueueCapacity)
        {
            // Wait (not a Drop* mode) so that TryWrite reports a full queue instead of silently discarding.
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        _sender = Task.Run(RunAsync);
    }

    /// <summary>
    /// How long the stream to the peer has been up without a break (accepted by the peer, not failed since), or null
    /// while it is not up: etcd's <c>ActiveSince</c> of a peer, which its transport sets when a stream to the peer
    /// comes up and clears when one fails.
    /// </summary>
    public TimeSpan? ConnectedFor => Interlocked.Read(ref _upSince) is var since and not 0 ? Stopwatch.GetElapsedTime(since) : null;

    /// <summary>The peer's URLs as given to the constructor.</summary>
    public IReadOnlyList<Uri> Urls { get; }

    /// <summary>Encodes and queues <paramref name="message"/>, or drops it and reports the peer unreachable.</summary>
    public void Send(in Message message)
    {
        if (_state == State.Down || !_queue.Writer.TryWrite(MessageCodec.Encode(message)))
            _sink.OnUnreachable(_peer);
    }

    /// <summary>
    /// The peer reached us, so it is up: if the link is down, the sender task retries now instead of at
    /// the end of its backoff, and an attempt still connecting is abandoned for a fresh one. At most once per
    /// <see cref="TransportOptions.MaxBackoff"/>, so a peer we cannot reach although it reaches us (a one-way
    /// cut) adds at most one attempt per interval, however often it reconnects.
    /// </summary>
    public void HeardFromPeer()
    {
        if (_state != State.Down)
            return;
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastCutShort);
        if (now - last < (long)_options.MaxBackoff.TotalMilliseconds || Interlocked.CompareExchange(ref _lastCutShort, now, last) != last)
            return;
        try
        {
            // Races with the attempt coming up: then a fresh stream replaces it, and Raft resends what it dropped.
            Interlocked.Exchange(ref _unconfirmed, null)?.Dispose();
            _attempt?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The attempt has just ended.
        }
        try
        {
            _peerIsUp.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already released, not yet consumed.
        }
        catch (ObjectDisposedException)
        {
            // The link was removed meanwhile.
        }
    }

    /// <summary>Stops the sender task and the uploads (failed uploads are reported), then releases the connections.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        await _sender.ConfigureAwait(false);
        await Task.WhenAll(_uploads.Keys).ConfigureAwait(false);
        foreach (var channel in _channels)
            channel.Dispose();
        _stop.Dispose();
        _peerIsUp.Dispose();
    }

    /// <summary>The sender task: one Stream call per iteration, backoff between failed ones. Never throws.</summary>
    private async Task RunAsync()
    {
        var stopping = _stop.Token;
        var backoff = new ReconnectBackoff(_options.MinBackoff, _options.MaxBackoff);
        // Reused for every write: WriteAsync serializes it before completing. Only the opening batch names the sender.
        var batch = new Wire.RaftBatch { ClusterId = _clusterId };
        while (!stopping.IsCancellationRequested)
        {
            var url = Urls[_current];
            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(stopping))
            using (var call =
                new Wire.RaftPeer.RaftPeerClient(_channels[_current]).Stream(cancellationToken: attempt.Token))
            {
                _attempt = attempt;
                try
                {
                    await PumpAsync(call, batch, backoff, url, attempt.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (!stopping.IsCancellationRequested)
                {
                    ReportFailure(url, FailureStatus(call, e));
                }
                catch (Exception) when (stopping.IsCancellationRequested)
                {
                    return;
                }
                finally
                {
                    _attempt = null;
                }
                batch.Messages.Clear();
            }

            _current = (_current + 1) % _channels.Length;
            try
            {
                // Ends early if the peer shows it is up (HeardFromPeer).
                await _peerIsUp.WaitAsync(backoff.Next(), stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Handshakes, then writes batches until the stream breaks (throws) or the link stops (returns).</summary>
    private async Task PumpAsync(
        AsyncClientStreamingCall<Wire.RaftBatch, Wire.StreamAck> call, Wire.RaftBatch batch,
        ReconnectBackoff backoff, Uri url, CancellationToken stopping)
    {
        // The receiver ends a Stream call only to refuse it or because it is going away: either way the
        // stream is broken, and waiting for the queue must stop at once.
        using var broken = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _ = call.ResponseAsync.ContinueWith(
            static (response, state) =>
            {
                _ = response.Exception; // observed here; FailureStatus reads it again
                try
                {
                    ((CancellationTokenSource)state!).Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // The attempt already ended.
                }
            },
            broken, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        // Handshake: an empty batch opens the HTTP/2 stream; the receiver answers with response headers holding
        // AcceptedHeader once it has checked the cluster id, or ends the call with an error status.
        batch.From = _self;
        await call.RequestStream.WriteAsync(batch, broken.Token).ConfigureAwait(false);
        batch.From = 0;
        var headers = await call.ResponseHeadersAsync.WaitAsync(_options.ConnectTimeout, broken.Token).ConfigureAwait(false);
        if (headers.GetValue(RaftPeerService.AcceptedHeader) is null)
        {
            // Refused: the headers of a trailers-only response; the call's end carries the status.
            await call.ResponseAsync.WaitAsync(_options.ConnectTimeout, stopping).ConfigureAwait(false);
            throw new RpcException(new Status(StatusCode.Unavailable, "the peer ended the stream without accepting it"));
        }

        _state = State.Up;
        Interlocked.Exchange(ref _upSince, Stopwatch.GetTimestamp());
        Volatile.Write(ref _unconfirmed, null);
        backoff.Reset();
        _peerIsUp.Wait(0, CancellationToken.None); // a release that came during this attempt is spent
        TransportLog.StreamUp(_logger, _peer, url);

        while (await _queue.Reader.WaitToReadAsync(broken.Token).ConfigureAwait(false))
        {
            FillBatch(batch);
            if (batch.Messages.Count == 0)
                continue;
            await call.RequestStream.WriteAsync(batch, broken.Token).ConfigureAwait(false);
            batch.Messages.Clear();
        }
    }

    /// <summary>Moves everything queued into <paramref name="batch"/>, up to the message size limit.</summary>
    private void FillBatch(Wire.RaftBatch batch)
    {
        // Invariant: the encoded batch fits in MaxMessageSize: at most 11 bytes of cluster_id, and per message
        // at most 6 bytes of tag and length prefix plus its body.
        var budget = _options.MaxMessageSize - 11;
        while (_queue.Reader.TryPeek(out var next))
        {
            var size = next.CalculateSize() + 6;
            if (size > budget && batch.Messages.Count > 0)
                break; // the rest goes in the next batch
            _queue.Reader.TryRead(out _);
            if (size > budget)
            {
                TransportLog.MessageTooLarge(_logger, _peer, (MessageType)(int)next.Type, size, _options.MaxMessageSize);
                _sink.OnUnreachable(_peer);
                continue;
            }
            batch.Messages.Add(next);
            budget -= size;
        }
    }

    private static Status FailureStatus(AsyncClientStreamingCall<Wire.RaftBatch, Wire.StreamAck> call, Exception error)
    {
        if (error is RpcException rpc)
            return rpc.Status;
        if (call.ResponseAsync.IsFaulted && call.ResponseAsync.Exception?.InnerException is RpcException response)
            return response.Status;
        return new Status(StatusCode.Unavailable, error.Message);
    }

    /// <summary>The attempt or the stream failed: go Down, drop what is queued, tell the node.</summary>
    private void ReportFailure(Uri url, Status status)
    {
        var previous = _state;
        _state = State.Down;
        Interlocked.Exchange(ref _upSince, 0);
        var dropped = 0;
        while (_queue.Reader.TryRead(out _))
            dropped++;

        if (status.StatusCode == StatusCode.FailedPrecondition && previous != State.Down)
            TransportLog.Refused(_logger, _peer, url, status.Detail);
        else if (previous != State.Down)
            TransportLog.StreamDown(_logger, _peer, url, status.StatusCode, status.Detail, dropped);
        else
            TransportLog.ReconnectFailed(_logger, _peer, url, status.StatusCode, status.Detail);

        // A link being disposed (peer removed or replaced) stops reporting; a report racing the disposal is harmless.
        if ((previous != State.Down || dropped > 0) && !_stop.IsCancellationRequested)
            _sink.OnUnreachable(_peer);
    }
}
