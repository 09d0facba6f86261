using Kvorum.Raft;

namespace Kvorum.Server.Transport;

/// <summary>
/// Sends Raft messages to peers. <see cref="Send"/> is called from the node's event loop before it
/// calls <c>RaftNode.Advance</c>: implementations must copy or serialize what they need before returning
/// (message entries are slices of a buffer the core reuses) and must never block.
/// </summary>
internal interface IPeerTransport : IAsyncDisposable
{
    /// <summary>Adds or updates a peer's URLs.</summary>
    void SetPeer(ulong id, IReadOnlyList<Uri> peerUrls);

    /// <summary>Forgets a peer (it was removed from the cluster).</summary>
    void RemovePeer(ulong id);

    /// <summary>Queues a message for its recipient; drops it (and reports unreachable) if the queue is full.</summary>
    void Send(in Message message);

    /// <summary>
    /// Streams a snapshot to <paramref name="message"/>.To in chunks read from <paramref name="data"/> (which must
    /// know its <see cref="Stream.Length"/>), disposes it, then reports through <see cref="IRaftMessageSink.OnSnapshotSent"/>.
    /// </summary>
    void SendSnapshot(in Message message, Stream data);

    /// <summary>
    /// <paramref name="id"/> just reached this member (it opened its stream here), so that peer is up: if the
    /// link to it is waiting out a reconnection backoff, it may retry now (a restarted member is then reachable
    /// at once, not up to a backoff later). Once per stream, not per message: nothing is added to the hot path.
    /// </summary>
    void HeardFrom(ulong id);

    /// <summary>
    /// How long this member's stream to <paramref name="id"/> has been up without a break, or null while it is not up
    /// (or the peer is unknown): etcd's <c>ActiveSince</c>, which its strict reconfiguration check reads.
    /// </summary>
    TimeSpan? ConnectedFor(ulong id);
}
