using Kvorum.Raft;

namespace Kvorum.Server.Transport;

/// <summary>
/// Where the peer transport delivers what arrives from other members, and what it learns about
/// them. Implemented by the node's event loop; every method must be cheap and thread-safe (it only
/// enqueues).
/// </summary>
internal interface IRaftMessageSink
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
