using Google.Protobuf;
using Grpc.Core;
using Kvorum.Raft;
using Microsoft.Extensions.Logging;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Server.Transport;

/// <summary>
/// The receiving side of the peer transport: decodes what <see cref="GrpcPeerTransport"/> sends and hands
/// it to the node's <see cref="IRaftMessageSink"/>. Traffic from another cluster is refused with
/// <see cref="StatusCode.FailedPrecondition"/> ("cluster id mismatch: ...").
/// </summary>
/// <remarks>
/// Wiring in a host (Kestrel must listen with HTTP/2 on the peer URLs):
/// <code>
/// builder.Services.AddRaftPeer(clusterId, sink, transportOptions); // registers this service and its limits
/// ...
/// app.MapRaftPeer();
/// </code>
/// See <see cref="RaftPeerEndpoints"/>. One instance serves every peer; it is thread-safe.
/// </remarks>
internal sealed class RaftPeerService : Wire.RaftPeer.RaftPeerBase
{
    /// <summary>Response header with which <see cref="Stream"/> accepts a sender, after checking its cluster id.</summary>
    internal const string AcceptedHeader = "kvorum-accepted";

    private readonly ulong _clusterId;
    private readonly IRaftMessageSink _sink;
    private readonly ILogger _logger;
    private readonly CancellationToken _stopping;
    private readonly LogThrottle _malformedLog = new(LogThrottle.DefaultInterval);
    private readonly LogThrottle _mismatchLog = new(LogThrottle.DefaultInterval);
    private long _batchesReceived;
    private long _chunksReceived;

    /// <summary>Creates the service for a member of cluster <paramref name="clusterId"/>.</summary>
    /// <param name="clusterId">Batches and chunks carrying another id are refused.</param>
    /// <param name="sink">Where decoded messages and reassembled snapshots go.</param>
    /// <param name="logger">For refusals and received snapshots.</param>
    /// <param name="stopping">
    /// Fires when the host is shutting down (<c>IHostApplicationLifetime.ApplicationStopping</c>): open streams
    /// end with <see cref="StatusCode.Unavailable"/> instead of holding up a graceful shutdown.
    /// </param>
    public RaftPeerService(ulong clusterId, IRaftMessageSink sink, ILogger logger, CancellationToken stopping = default)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(logger);
        _clusterId = clusterId;
        _sink = sink;
        _logger = logger;
        _stopping = stopping;
    }

    /// <summary>Non-empty batches received so far (the handshake batches are not counted).</summary>
    internal long BatchesReceived => Interlocked.Read(ref _batchesReceived);

    /// <summary>Snapshot chunks received so far.</summary>
    internal long ChunksReceived => Interlocked.Read(ref _chunksReceived);

    /// <summary>
    /// Receives one peer's long-lived stream. The first batch (the sender's empty handshake) is checked and
    /// answered with response headers holding <see cref="AcceptedHeader"/>, which tell the sender the stream is accepted.
    /// </summary>
    /// <exception cref="RpcException">FailedPrecondition for another cluster's id; InvalidArgument for a malformed message.</exception>
    public override async Task<Wire.StreamAck> Stream(IAsyncStreamReader<Wire.RaftBatch> requestStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(context);
        var accepted = false;
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _stopping);
        try
        {
            while (await NextAsync(requestStream, context, ending.Token).ConfigureAwait(false))
            {
                var batch = requestStream.Current;
                CheckCluster(batch.ClusterId, context);
                if (!accepted)
                {
                    await context.WriteResponseHeadersAsync([new Metadata.Entry(AcceptedHeader, "1")]).ConfigureAwait(false);
                    accepted = true;
                    if (batch.From != 0)
                        _sink.OnPeerConnected(batch.From);
                }
                if (batch.Messages.Count == 0)
                    continue;
                Interlocked.Increment(ref _batchesReceived);
                // Invariant: messages reach the sink in the order the sender queued them (one stream, one reader).
                foreach (var wire in batch.Messages)
                    _sink.OnMessage(Decode(wire, context));
            }
        }
        catch (Exception e) when (e is IOException || (e is OperationCanceledException && ending.IsCancellationRequested))
        {
            // Either the sender went away (it reconnects on its own) or this member is shutting down. A reset by the
            // sender can surface as an IOException before the call's own token is cancelled: still no error of ours.
            if (_stopping.IsCancellationRequested)
                throw Refuse(StatusCode.Unavailable, "member is shutting down");
        }
        return new Wire.StreamAck();
    }

    /// <summary>
    /// Receives one snapshot in chunks, writing each to the stream the sink gives for it, and delivers it once
    /// the last chunk arrives; nothing is held in memory but the chunk in hand.
    /// </summary>
    /// <exception cref="RpcException">
    /// FailedPrecondition for another cluster's id or a snapshot the sink refuses; InvalidArgument for a malformed
    /// stream; DataLoss if the stream ends before the last chunk.
    /// </exception>
    public override async Task<Wire.SnapshotAck> Snapshot(IAsyncStreamReader<Wire.SnapshotChunk> requestStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(context);
        Message? message = null;
        Stream? destination = null;
        long total = 0;
        var last = false;
        try
        {
            while (await NextAsync(requestStream, context, context.CancellationToken).ConfigureAwait(false))
            {
                var chunk = requestStream.Current;
                CheckCluster(chunk.ClusterId, context);
                if (last)
                    throw Refuse(StatusCode.InvalidArgument, "snapshot data after the last chunk");
                if (message is null)
                {
                    if (chunk.Message is null)
                        throw Refuse(StatusCode.InvalidArgument, "the first snapshot chunk carries no message");
                    message = Decode(chunk.Message, context);
                    if (message.Value.Type != MessageType.Snapshot || message.Value.Snapshot is null)
                        throw Refuse(StatusCode.InvalidArgument, $"a snapshot must start with a Snapshot message with metadata, not {message.Value.Type}");
                    destination = Begin(message.Value);
                }
                destination!.Write(chunk.Data.Span);
                total += chunk.Data.Length;
                Interlocked.Increment(ref _chunksReceived);
                last = chunk.Last;
            }
            if (!last || message is null)
                throw Refuse(StatusCode.DataLoss, "snapshot stream ended before its last chunk");
        }
        catch
        {
            destination?.Dispose();
            throw;
        }

        TransportLog.SnapshotReceived(_logger, message.Value.From, message.Value.Snapshot!.Index, total);
        _sink.OnSnapshot(message.Value, destination!);
        return new Wire.SnapshotAck();
    }

    private Stream Begin(in Message message)
    {
        try
        {
            return _sink.BeginSnapshot(message);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ArgumentException)
        {
            throw Refuse(StatusCode.FailedPrecondition, $"snapshot {message.Snapshot?.Index} refused: {e.Message}");
        }
    }

    /// <summary>
    /// The next request of a stream, refusing bytes that are not one with InvalidArgument. gRPC reports such bytes as
    /// an <see cref="InvalidProtocolBufferException"/>, which is an <see cref="IOException"/>: left to the caller's
    /// handler of a vanished sender, garbage would be answered OK.
    /// </summary>
    private async Task<bool> NextAsync<T>(IAsyncStreamReader<T> requests, ServerCallContext context, CancellationToken cancellation)
    {
        try
        {
            return await requests.MoveNext(cancellation).ConfigureAwait(false);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Malformed(context, e.Message);
        }
    }

    private RpcException Malformed(ServerCallContext context, string detail)
    {
        if (_malformedLog.TryPass(out var held))
            TransportLog.Malformed(_logger, context.Peer, LogThrottle.OneLine(detail), held);
        return Refuse(StatusCode.InvalidArgument, detail);
    }

    private void CheckCluster(ulong theirs, ServerCallContext context)
    {
        if (theirs == _clusterId)
            return;
        if (_mismatchLog.TryPass(out var held))
            TransportLog.ClusterMismatch(_logger, context.Peer, theirs, _clusterId, held);
        throw Refuse(StatusCode.FailedPrecondition, ClusterMismatch.Describe(theirs, _clusterId));
    }

    private Message Decode(Wire.RaftMessage wire, ServerCallContext context)
    {
        try
        {
            return MessageCodec.Decode(wire);
        }
        catch (FormatException e)
        {
            throw Malformed(context, e.Message);
        }
    }

    private static RpcException Refuse(StatusCode code, string detail) => new(new Status(code, detail));
}
