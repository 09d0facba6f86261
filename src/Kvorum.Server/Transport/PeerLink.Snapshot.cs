using System.Collections.Concurrent;
using Google.Protobuf;
using Grpc.Core;
using Kvorum.Raft;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Server.Transport;

/// <summary>Snapshot uploads: one <c>RaftPeer.Snapshot</c> call per snapshot, beside the message stream.</summary>
internal sealed partial class PeerLink
{
    /// <summary>Starts uploading a snapshot in the background; reports through <see cref="IRaftMessageSink.OnSnapshotSent"/>.</summary>
    /// <remarks><paramref name="data"/> is sent without copying: the caller must not change it until the report.</remarks>
    public void SendSnapshot(in Message message, ReadOnlyMemory<byte> data)
    {
        Wire.RaftMessage wire = MessageCodec.Encode(message);
        ulong index = message.Snapshot?.Index ?? 0;
        Task upload = Task.Run(() => UploadAsync(wire, index, data));
        _uploads.TryAdd(upload, 0);
        upload.ContinueWith(
            static (task, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(task, out _),
            _uploads, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task UploadAsync(Wire.RaftMessage message, ulong index, ReadOnlyMemory<byte> data)
    {
        bool success = false;
        try
        {
            CancellationToken stopping = _stop.Token;
            using AsyncClientStreamingCall<Wire.SnapshotChunk, Wire.SnapshotAck> call =
                new Wire.RaftPeer.RaftPeerClient(_channels[_current]).Snapshot(cancellationToken: stopping);
            int offset = 0;
            do
            {
                int length = Math.Min(_options.SnapshotChunkSize, data.Length - offset);
                var chunk = new Wire.SnapshotChunk
                {
                    ClusterId = _clusterId,
                    Message = offset == 0 ? message : null,
                    Data = UnsafeByteOperations.UnsafeWrap(data.Slice(offset, length)),
                    Last = offset + length == data.Length,
                };
                offset += length;
                await call.RequestStream.WriteAsync(chunk, stopping).ConfigureAwait(false);
            }
            while (offset < data.Length);
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            await call.ResponseAsync.ConfigureAwait(false);
            success = true;
            TransportLog.SnapshotSent(_logger, _peer, index, data.Length);
        }
        catch (Exception e)
        {
            TransportLog.SnapshotFailed(_logger, _peer, index, e);
        }

        if (!success)
            _sink.OnUnreachable(_peer);
        _sink.OnSnapshotSent(_peer, success);
    }
}
