using Kvorum.Raft;

namespace Kvorum.Server.Transport;

/// <summary>
/// Where the peer transport delivers what arrives from other members, and what it learns about
/// them. Implemented by the node's event loop; every method must be cheap and thread-safe (it only
/// enqueues).
/// </summary>
public interface IRaftMessageSink
{
    /// <summary>A Raft message arrived from a peer.</summary>
    void OnMessage(in Message message);

    /// <summary>
    /// <paramref name="peer"/> opened its stream to this member, so it is up (a restarted member does so
    /// first thing). The node passes this on to <see cref="IPeerTransport.HeardFrom"/>.
    /// </summary>
    void OnPeerConnected(ulong peer);

    /// <summary>
    /// A snapshot starts to arrive: <paramref name="message"/> is the Snapshot message (with metadata). Returns
    /// the stream its chunks are written to as they come (a file, typically: a snapshot can be larger than
    /// memory should hold). The transport disposes the stream if the upload fails before its last chunk;
    /// otherwise it hands the stream to <see cref="OnSnapshot"/>. Throws to refuse the snapshot.
    /// </summary>
    Stream BeginSnapshot(in Message message);

    /// <summary>
    /// A snapshot arrived complete: every chunk was written to <paramref name="received"/>, the stream
    /// <see cref="BeginSnapshot"/> returned for it, which now belongs to the sink.
    /// </summary>
    void OnSnapshot(in Message message, Stream received);

    /// <summary>Sending to <paramref name="peer"/> failed (connection down); the core should stop pipelining to it.</summary>
    void OnUnreachable(ulong peer);

    /// <summary>A snapshot sent to <paramref name="peer"/> finished, successfully or not.</summary>
    void OnSnapshotSent(ulong peer, bool success);
}

/// <summary>
/// Sends Raft messages to peers. <see cref="Send"/> is called from the node's event loop before it
/// calls <c>RaftNode.Advance</c>: implementations must copy or serialize what they need before returning
/// (message entries are slices of a buffer the core reuses) and must never block.
/// </summary>
public interface IPeerTransport : IAsyncDisposable
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
}
