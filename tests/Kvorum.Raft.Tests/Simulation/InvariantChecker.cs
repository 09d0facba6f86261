namespace Kvorum.Raft.Tests.Simulation;

/// <summary>Thrown when a safety property fails; the message names the seed and how to replay it.</summary>
internal sealed class InvariantViolationException(string message) : Exception(message);

/// <summary>
/// Checks the properties of paper Figure 3 as the cluster runs, each time a server persists,
/// commits or applies something, plus linearizability of ReadIndex reads. The rules about who counts
/// (voters, not learners) are in InvariantChecker.Quorums.cs.
/// </summary>
internal sealed partial class InvariantChecker
{
    private readonly Dictionary<ulong, ulong> _leaderOfTerm = [];
    private readonly Dictionary<(ulong Index, ulong Term), (ulong PrevTerm, ulong Hash)> _entries = [];
    private readonly List<ulong> _committedTerms = [0];
    private readonly List<ulong> _appliedHashes = [0];
    private readonly Func<string> _describe;

    public InvariantChecker(Func<string> describe) => _describe = describe;

    public long Checks { get; private set; }

    public ulong MaxCommitted => (ulong)_committedTerms.Count - 1;

    public int Elections => _leaderOfTerm.Count;

    public IReadOnlyDictionary<ulong, ulong> LeaderOfTerm => _leaderOfTerm;

    private void Fail(string what) => throw new InvariantViolationException($"{what}\n{_describe()}");

    /// <summary>Election Safety: at most one leader per term, elected by a majority of the voters of its configuration.</summary>
    public void OnLeader(ulong id, ulong term, IRaftStorage log, ConfState config)
    {
        Checks++;
        if (_leaderOfTerm.TryGetValue(term, out var other) && other != id)
            Fail($"Election Safety violated: {other} and {id} both leaders of term {term}");
        _leaderOfTerm[term] = id;
        CheckElectedByVoters(id, term, config);
        // Leader Completeness: a leader's log holds every committed entry.
        for (var i = log.FirstIndex; i < (ulong)_committedTerms.Count; i++)
        {
            if (_committedTerms[(int)i] == 0)
                continue;
            if (!log.TryGetTerm(i, out var t) || t != _committedTerms[(int)i])
                Fail($"Leader Completeness violated: leader {id} of term {term} lacks committed entry {i} (term {_committedTerms[(int)i]}, has {(log.TryGetTerm(i, out var h) ? h.ToString() : "none")})");
        }
    }

    /// <summary>
    /// Leader Append-Only and Log Matching: called before a server persists <paramref name="entries"/>.
    /// Every (index, term) ever stored must name the same command after the same previous term.
    /// </summary>
    public void OnPersist(ulong id, StateRole role, IRaftStorage log, IReadOnlyList<Entry> entries)
    {
        if (entries.Count == 0)
            return;
        Checks++;
        if (role == StateRole.Leader && entries[0].Index <= log.LastIndex)
            Fail($"Leader Append-Only violated: leader {id} overwrites from {entries[0].Index} (last {log.LastIndex})");
        ulong? prevTerm = log.TryGetTerm(entries[0].Index - 1, out var pt) ? pt : null;
        foreach (var e in entries)
        {
            var hash = SimNode.Fold(0, e with { Index = 0, Term = 0 });
            if (_entries.TryGetValue((e.Index, e.Term), out var known))
            {
                if (known.Hash != hash || (prevTerm is { } p && known.PrevTerm != p))
                    Fail($"Log Matching violated at node {id}: entry {e.Term}/{e.Index} differs from one stored elsewhere");
            }
            else if (prevTerm is { } p)
            {
                _entries[(e.Index, e.Term)] = (p, hash);
            }
            prevTerm = e.Term;
        }
    }

    /// <summary>Records what became committed at a server, and checks it against what others committed.</summary>
    public void OnCommit(SimNode node, ulong commit)
    {
        var log = node.Storage;
        for (var i = Math.Max(node.CheckedCommit + 1, log.FirstIndex); i <= commit; i++)
        {
            Checks++;
            if (!log.TryGetTerm(i, out var t))
                Fail($"node {node.Id} committed {i} which it does not store");
            if (i < (ulong)_committedTerms.Count)
            {
                if (_committedTerms[(int)i] != t)
                    Fail($"committed entry {i} has term {t} at node {node.Id} but {_committedTerms[(int)i]} elsewhere");
            }
            else
            {
                while ((ulong)_committedTerms.Count < i)
                    _committedTerms.Add(0); // Learned via snapshot; filled in when someone commits it.
                _committedTerms.Add(t);
            }
        }
        if (commit > node.CheckedCommit)
            node.CheckedCommit = commit;
    }

    /// <summary>State Machine Safety: every server applies the same command at each index.</summary>
    public void OnApply(ulong id, ulong index, ulong hashAfter)
    {
        Checks++;
        if (index < (ulong)_appliedHashes.Count)
        {
            var known = _appliedHashes[(int)index];
            if (known != 0 && known != hashAfter)
                Fail($"State Machine Safety violated: node {id} applied a different command at index {index}");
            _appliedHashes[(int)index] = hashAfter;
            return;
        }
        while ((ulong)_appliedHashes.Count < index)
            _appliedHashes.Add(0);
        _appliedHashes.Add(hashAfter);
    }

    /// <summary>
    /// Linearizable reads: a read answered with <paramref name="readIndex"/> and served from a state machine that has
    /// applied <paramref name="applied"/> must see every write acknowledged to a client before the read began
    /// (<see cref="PendingRead.MinIndex"/>, the highest index acknowledged then). The read index itself must already
    /// cover them: it is what the leader vouched for, and a host may serve at exactly that index.
    /// </summary>
    public void OnRead(PendingRead read, ulong readIndex, ulong applied)
    {
        Checks++;
        if (readIndex < read.MinIndex)
            Fail($"stale read: node {read.NodeId} read at index {readIndex}, but write {read.MinIndex} was acknowledged before the read began");
        if (applied < readIndex)
            Fail($"read served early: node {read.NodeId} served read index {readIndex} having applied only {applied}");
    }
}
