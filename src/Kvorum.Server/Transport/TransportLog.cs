using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Transport;

/// <summary>The transport's log lines, source-generated.</summary>
internal static partial class TransportLog
{
    [LoggerMessage(1, LogLevel.Information, "Stream to peer {Peer:x} at {Url} is up")]
    public static partial void StreamUp(ILogger logger, ulong peer, Uri url);

    [LoggerMessage(2, LogLevel.Warning, "Stream to peer {Peer:x} at {Url} failed ({Status}: {Detail}); peer is unreachable, {Dropped} queued messages dropped")]
    public static partial void StreamDown(ILogger logger, ulong peer, Uri url, StatusCode status, string detail, int dropped);

    [LoggerMessage(3, LogLevel.Debug, "Reconnecting to peer {Peer:x} at {Url} failed ({Status}: {Detail})")]
    public static partial void ReconnectFailed(ILogger logger, ulong peer, Uri url, StatusCode status, string detail);

    [LoggerMessage(4, LogLevel.Error, "Peer {Peer:x} at {Url} refused our stream: {Detail}")]
    public static partial void Refused(ILogger logger, ulong peer, Uri url, string detail);

    [LoggerMessage(5, LogLevel.Warning, "Dropped a {Type} message of {Size} bytes to peer {Peer:x}: larger than the {Max}-byte limit")]
    public static partial void MessageTooLarge(ILogger logger, ulong peer, Kvorum.Raft.MessageType type, int size, int max);

    [LoggerMessage(6, LogLevel.Information, "Sent a snapshot at index {Index} ({Bytes} bytes) to peer {Peer:x}")]
    public static partial void SnapshotSent(ILogger logger, ulong peer, ulong index, long bytes);

    [LoggerMessage(7, LogLevel.Warning, "Sending a snapshot at index {Index} to peer {Peer:x} failed")]
    public static partial void SnapshotFailed(ILogger logger, ulong peer, ulong index, Exception error);

    [LoggerMessage(8, LogLevel.Error, "Rejected a peer stream from {Remote}: cluster id {Theirs:x} is not ours ({Ours:x}) ({Held} more such refusals since the last such line)")]
    public static partial void ClusterMismatch(ILogger logger, string remote, ulong theirs, ulong ours, long held);

    [LoggerMessage(9, LogLevel.Warning, "Rejected malformed peer input from {Remote}: {Detail} ({Held} more such refusals since the last such line)")]
    public static partial void Malformed(ILogger logger, string remote, string detail, long held);

    [LoggerMessage(10, LogLevel.Information, "Received a snapshot at index {Index} ({Bytes} bytes) from peer {Peer:x}")]
    public static partial void SnapshotReceived(ILogger logger, ulong peer, ulong index, long bytes);
}
