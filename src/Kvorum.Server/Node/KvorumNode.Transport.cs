using System.Diagnostics;
using Kvorum.Raft;
using Kvorum.Server.Transport;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Node;

/// <summary>The member's side of the peer transport: what arrives from peers, and the snapshots it sends them.</summary>
internal sealed partial class KvorumNode
{
    /// <summary>
    /// Sends the snapshot that storage holds now, labelled with its own metadata. The core chose to send one when it
    /// built the message, and a newer snapshot may have been made current since (<see cref="CommitSnapshot"/> runs
    /// from the same inbox, before this Ready was processed): the bytes sent must carry the index and term of the
    /// state they hold, or the follower would apply the entries after the older label a second time. A newer one
    /// serves the core just as well: the follower answers with its new last index.
    /// </summary>
    private void SendSnapshot(in Message m)
    {
        var data = _storage.OpenSnapshot(out var current);
        Debug.Assert(current.Index >= m.Snapshot!.Index, "the storage's snapshot went back");
        if (current != m.Snapshot)
            Interlocked.Increment(ref Metrics.SnapshotsRelabelled);
        _transport!.SendSnapshot(m with { Snapshot = current }, data);
    }

    // ---- IRaftMessageSink: called from transport threads; only enqueue. ----

    /// <summary>A stranger must not be able to flood the log: one line about refused messages per interval.</summary>
    private readonly LogThrottle _strangerLog = new(LogThrottle.DefaultInterval);

    /// <inheritdoc />
    public void OnMessage(in Message message)
    {
        var m = message;
        Interlocked.Increment(ref Metrics.MessagesReceived[(int)m.Type & 31]);
        Post(() =>
        {
            if (!IsMember(m.From))
            {
                RefuseStranger(m.From, m.Type.ToString());
                return;
            }
            if (_observers.Active)
                _observers.Received(m);
            _raft.Step(m);
        });
    }

    /// <summary>
    /// On the loop: whether <paramref name="id"/> may send this member Raft messages: it is in the configuration (which
    /// takes effect when a change is appended) or in the member table, or it is the leader this member follows; or this
    /// member has not heard from a leader within the election timeout. A member that is behind may not know a member
    /// added meanwhile, which may now be the leader (and a member joining knows none): refusing it then would keep this
    /// one behind for good. A member that follows a live leader needs no one else.
    /// </summary>
    private bool IsMember(ulong id)
    {
        _owner.AssertOwned();
        return id == _raft.Lead || _raft.Config.Contains(id) || _state.Members.TryGet(id, out _) || !_raft.HeardFromLeaderRecently;
    }

    /// <summary>On the loop: counts a message from a non-member and logs it, one line per interval at most.</summary>
    private void RefuseStranger(ulong from, string what)
    {
        Interlocked.Increment(ref Metrics.MessagesFromStrangers);
        if (_strangerLog.TryPass(out var held))
            LogStranger(_log, what, from, held);
    }

    /// <inheritdoc />
    public void OnPeerConnected(ulong peer) => _transport?.HeardFrom(peer);

    /// <inheritdoc />
    public Stream BeginSnapshot(in Message message)
    {
        var meta = message.Snapshot ?? throw new ArgumentException("a Snapshot message without metadata", nameof(message));
        return new IncomingSnapshot(_storage.ReceiveSnapshot(meta));
    }

    /// <inheritdoc />
    public void OnSnapshot(in Message message, Stream received)
    {
        var m = message;
        var incoming = (IncomingSnapshot)received;
        var meta = m.Snapshot!;
        if (incoming.Refusal(meta, m.From) is { } refusal)
        {
            // Not installed: the leader's next probe finds this member still behind, and it sends a snapshot again.
            incoming.Dispose();
            Interlocked.Increment(ref Metrics.SnapshotsRefused);
            LogSnapshotRefused(_log, meta.Index, m.From, refusal);
            return;
        }
        var receiver = incoming.Receiver;
        Post(() =>
        {
            if (!IsMember(m.From))
            {
                receiver.Dispose();
                RefuseStranger(m.From, "snapshot");
                return;
            }
            _receivedSnapshots.Add(receiver);
            if (_observers.Active)
                _observers.Received(m);
            _raft.Step(m);
        });
    }

    /// <inheritdoc />
    public void OnUnreachable(ulong peer)
    {
        Interlocked.Increment(ref Metrics.PeerSendFailures);
        Post(() => _raft.ReportUnreachable(peer));
    }

    /// <inheritdoc />
    public void OnSnapshotSent(ulong peer, bool success) => Post(() => _raft.ReportSnapshot(peer, success));

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused a {What} message from {From:x}, which is not a member of this cluster ({Suppressed} more since the last such line)")]
    private static partial void LogStranger(ILogger log, string what, ulong from, long suppressed);

    [LoggerMessage(Level = LogLevel.Error, Message = "refused snapshot {Index} from {From:x}: {Reason}")]
    private static partial void LogSnapshotRefused(ILogger log, ulong index, ulong from, string reason);
}
