namespace Kvorum.Raft;

/// <summary>Why a proposal was or was not accepted.</summary>
public enum ProposeStatus : byte
{
    /// <summary>Appended to the leader's log; it commits unless leadership changes first.</summary>
    Accepted,

    /// <summary>This server is not the leader and knows none; retry later.</summary>
    NotLeader,

    /// <summary>
    /// Forwarded to the leader (<see cref="ProposeResult.Leader"/>); index and term are unknown here, so
    /// the proposer recognizes its entry when it applies it (by an id inside the payload). May be lost.
    /// </summary>
    Forwarded,

    /// <summary>A leadership transfer is in progress; retry after it ends (thesis §3.10).</summary>
    TransferInProgress,

    /// <summary>Another membership change is not committed yet, or the leader has not committed an entry of its term.</summary>
    ConfChangePending,

    /// <summary>The membership change does not apply to the current configuration.</summary>
    InvalidConfChange,
}

/// <summary>
/// The answer to a proposal. An accepted proposal is at (<see cref="Index"/>, <see cref="Term"/>): it
/// succeeded if the entry applied at that index has that term, and was lost if another term's entry
/// is applied there.
/// </summary>
public readonly record struct ProposeResult(ProposeStatus Status, ulong Index, ulong Term, ulong Leader)
{
    /// <summary>True if the proposal was appended.</summary>
    public bool Accepted => Status == ProposeStatus.Accepted;

    /// <summary>True if the proposal was appended here or sent to the leader.</summary>
    public bool AcceptedOrForwarded => Status is ProposeStatus.Accepted or ProposeStatus.Forwarded;

    internal static ProposeResult Ok(ulong index, ulong term) => new(ProposeStatus.Accepted, index, term, 0);

    internal static ProposeResult Failed(ProposeStatus status, ulong leader) => new(status, 0, 0, leader);
}
