namespace Kvorum.Raft.Tests.Simulation;

/// <summary>
/// Who counts: only the voters of a configuration elect a leader and commit an entry; a learner receives the log
/// and nothing else (thesis §4.2.1). Checked from outside the core, on the messages and the disks.
/// </summary>
internal sealed partial class InvariantChecker
{
    /// <summary>Granted votes delivered to each candidate: (candidate, term) → voters.</summary>
    private readonly Dictionary<(ulong Candidate, ulong Term), HashSet<ulong>> _votesGranted = [];

    /// <summary>The most voters of a configuration in which a leader committed an entry.</summary>
    public int MaxVoters { get; private set; }

    /// <summary>Records a granted vote as it reaches its candidate.</summary>
    public void OnDeliver(in Message m)
    {
        if (m.Type != MessageType.VoteResponse || m.Reject)
            return;
        if (!_votesGranted.TryGetValue((m.To, m.Term), out var voters))
            _votesGranted[(m.To, m.Term)] = voters = [];
        voters.Add(m.From);
    }

    /// <summary>
    /// Only a voter campaigns, and it asks only voters: a server that is a learner (or not a member) in its own
    /// configuration never sends a (pre-)vote request, and no request goes to a learner (thesis §4.2.1).
    /// </summary>
    /// <remarks>
    /// A batched host's Ready follows several calls; the configuration may have changed among them, so the request
    /// is checked against the configuration before the batch (<paramref name="before"/>) and after it.
    /// </remarks>
    public void OnSend(ConfState config, ConfState before, in Message m, IRaftStorage durable)
    {
        CheckDurableBeforeSend(m, durable);
        if (m.Type is not (MessageType.Vote or MessageType.PreVote))
            return;
        Checks++;
        if (!config.IsVoter(m.From) && !before.IsVoter(m.From))
            Fail($"node {m.From} campaigned ({m.Type} for term {m.Term}) while not a voter in its configuration {config}");
        if (!config.IsVoter(m.To) && !before.IsVoter(m.To))
            Fail($"node {m.From} asked {m.To}, not a voter in its configuration {config}, for a {m.Type}");
    }

    /// <summary>
    /// Paper Figure 2, "persistent state ... updated on stable storage before responding to RPCs": a message leaves only
    /// once its sender's term is durable, and a granted vote once the vote is. A crash cannot then bring the server back
    /// in an older term or free to vote again. Pre-votes name a future term and promise nothing (thesis §9.6).
    /// </summary>
    private void CheckDurableBeforeSend(in Message m, IRaftStorage durable)
    {
        if (m.Type is MessageType.PreVote or MessageType.PreVoteResponse)
            return;
        Checks++;
        var hs = durable.HardState;
        if (m.Term > hs.Term)
            Fail($"node {m.From} sent {m.Type} in term {m.Term} to {m.To} while its disk holds term {hs.Term}");
        // A grant from an earlier term than the disk's (a batch that moved on) promises nothing the disk could break.
        if (m.Type == MessageType.VoteResponse && !m.Reject && hs.Term == m.Term && hs.Vote != m.To)
            Fail($"node {m.From} granted its vote in term {m.Term} to {m.To} while its disk holds {hs}");
    }

    /// <summary>
    /// A leader of <paramref name="term"/> holds the granted votes of a majority of the voters of its configuration,
    /// itself included: votes of learners or of servers outside the configuration do not count.
    /// </summary>
    private void CheckElectedByVoters(ulong id, ulong term, ConfState config)
    {
        var granted = _votesGranted.GetValueOrDefault((id, term)) ?? [];
        var count = config.Voters.Count(v => v == id || granted.Contains(v));
        if (!config.IsVoter(id) || count <= config.Voters.Length / 2)
            Fail($"node {id} became leader of term {term} with the votes of {count} of the voters {config} (granted by: {string.Join(' ', granted.Order())})");
        _votesGranted.Remove((id, term));
    }

    /// <summary>
    /// A leader that moves its commit index to <paramref name="commit"/> does so because a majority of the voters of
    /// its configuration hold that entry on their disks (paper §5.3; thesis §10.2.1 for the leader's own copy, which
    /// counts only once durable). Learners' copies do not count. A copy compacted into a durable snapshot counts.
    /// </summary>
    public void OnLeaderCommit(SimNode leader, ConfState config, ulong commit, Func<ulong, IRaftStorage?> durableOf)
    {
        Checks++;
        MaxVoters = Math.Max(MaxVoters, config.Voters.Length);
        if (!leader.Storage.TryGetTerm(commit, out var term))
        {
            Fail($"leader {leader.Id} committed {commit} which it does not hold");
            return;
        }
        var holders = new List<ulong>();
        foreach (var v in config.Voters)
        {
            var disk = durableOf(v);
            if (disk is null)
                continue;
            if (disk.Snapshot.Index >= commit || (disk.TryGetTerm(commit, out var t) && t == term))
                holders.Add(v);
        }
        if (holders.Count <= config.Voters.Length / 2)
            Fail($"leader {leader.Id} committed {commit} (term {term}) held durably by only {string.Join(' ', holders)} of the voters {config}");
    }
}
