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
    /// <remarks>The upload reads <paramref name="data"/> chunk by chunk and disposes it.</remarks>
    public void SendSnapshot(in Message message, Stream data)
    {
        var wire = MessageCodec.Encode(message);
        var index = message.Snapshot?.Index ?? 0;
        var upload = Task.Run(() => UploadAsync(wire, index, data));
        _uploads.TryAdd(upload, 0);
        upload.ContinueWith(
            static (task, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(task, out _),
            _uploads, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task UploadAsync(Wire.RaftMessage message, ulong index, Stream data)
    {
        var success = false;
        try
        {
            await using (data.ConfigureAwait(false))
            {
                var stopping = _stop.Token;
                using var call =
                    new Wire.RaftPeer.RaftPeerClient(_channels[_current]).Snapshot(cancellationToken: stopping);
                var total = data.Length;
                long sent = 0;
                // One buffer for the whole upload: a write has serialized the chunk by the time it completes.
                var buffer = new byte[(int)Math.Min(_options.SnapshotChunkSize, Math.Max(total, 1))];
                do
                {
                    var length = await data.ReadAtLeastAsync(buffer, (int)Math.Min(buffer.Length, total - sent), throwOnEndOfStream: true, stopping).ConfigureAwait(false);
                    var chunk = new Wire.SnapshotChunk
                    {
                        ClusterId = _clusterId,
                        Message = sent == 0 ? message : null,
                        Data = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, length)),
                        Last = sent + length == total,
                    };
                    sent += length;
                    await call.RequestStream.WriteAsync(chunk, stopping).ConfigureAwait(false);
                }
                while (sent < total);
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                await call.ResponseAsync.ConfigureAwait(false);
                success = true;
                TransportLog.SnapshotSent(_logger, _peer, index, total);
            }
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
