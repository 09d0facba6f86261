namespace Kvorum.Lab.Nodes;

/// <summary>What a member says of itself through the Maintenance Status call.</summary>
/// <param name="MemberId">Its member id.</param>
/// <param name="Leader">The member id it believes leads (0: none).</param>
/// <param name="Term">Its Raft term.</param>
/// <param name="CommitIndex">Its commit index.</param>
/// <param name="AppliedIndex">Its applied index.</param>
/// <param name="IsLearner">Whether it is a learner.</param>
internal sealed record NodeStatus(ulong MemberId, ulong Leader, ulong Term, ulong CommitIndex, ulong AppliedIndex, bool IsLearner)
{
    /// <summary>True when it believes it leads.</summary>
    public bool IsLeader => Leader != 0 && Leader == MemberId;

    /// <summary>leader, follower or learner.</summary>
    public string Role => IsLeader ? "leader" : IsLearner ? "learner" : "follower";
}
