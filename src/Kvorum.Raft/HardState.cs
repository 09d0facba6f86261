namespace Kvorum.Raft;

/// <summary>
/// The state a server must have on stable storage before it answers any RPC (paper Figure 2,
/// "Persistent state on all servers"), plus the commit index so that a restart does not re-apply
/// from zero.
/// </summary>
/// <param name="Term">Latest term the server has seen.</param>
/// <param name="Vote">Candidate that received the vote in <paramref name="Term"/>, or 0 for none.</param>
/// <param name="Commit">Highest log index known to be committed.</param>
public readonly record struct HardState(ulong Term, ulong Vote, ulong Commit)
{
    /// <summary>The state of a server that has never run.</summary>
    public static HardState Empty => default;

    /// <summary>True for the state of a server that has never run.</summary>
    public bool IsEmpty => Term == 0 && Vote == 0 && Commit == 0;
}
