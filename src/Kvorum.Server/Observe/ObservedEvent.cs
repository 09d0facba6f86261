using Kvorum.Raft;

namespace Kvorum.Server.Observe;

/// <summary>What an <see cref="ObservedEvent"/> reports.</summary>
internal enum ObservedKind : byte
{
    /// <summary>The member's state (<see cref="ObservedEvent.State"/>).</summary>
    State,

    /// <summary>A message the member sent (<see cref="ObservedEvent.Message"/>).</summary>
    Sent,

    /// <summary>A message the member received and stepped (<see cref="ObservedEvent.Message"/>).</summary>
    Received,

    /// <summary>Events the watcher does not get (<see cref="ObservedEvent.Slow"/>, <see cref="ObservedEvent.Sampled"/>).</summary>
    Dropped,
}

/// <summary>One Raft message as a watcher sees it: the header fields, the entry count and the link's sequence number.</summary>
internal readonly record struct ObservedMessage(
    MessageType Type, ulong From, ulong To, ulong Term, ulong LogTerm, ulong Index, ulong Commit, int Entries, bool Reject,
    ulong RejectHint, ulong Seq)
{
    /// <summary>The observable part of <paramref name="m"/>, numbered <paramref name="seq"/> on its link.</summary>
    public static ObservedMessage Of(in Message m, ulong seq) =>
        new(m.Type, m.From, m.To, m.Term, m.LogTerm, m.Index, m.Commit, m.Entries.Length, m.Reject, m.RejectHint, seq);
}

/// <summary>
/// One event of a member's stream, as queued for a watcher: a value, so that a message event costs the queue a slot and
/// no allocation; a state event refers to an immutable <see cref="ObservedState"/>.
/// </summary>
internal readonly record struct ObservedEvent(
    ObservedKind Kind, long UnixMicros, ObservedMessage Message = default, ObservedState? State = null, long Slow = 0, long Sampled = 0)
{
    /// <summary>Microseconds since the Unix epoch, now.</summary>
    public static long Now() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
}
