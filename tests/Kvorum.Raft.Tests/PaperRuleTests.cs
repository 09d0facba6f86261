namespace Kvorum.Raft.Tests;

/// <summary>One test per rule of the Raft paper (and thesis), named after the section that states it.</summary>
public class PaperRuleTests
{
    private static readonly ConfState Three = ConfState.OfVoters(1, 2, 3);
    private static readonly ulong[] LeaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];

    public static TheoryData<string, ulong[]> Figure7Followers => new()
    {
        { "a", [1, 1, 1, 4, 4, 5, 5, 6, 6] },
        { "b", [1, 1, 1, 4] },
        { "c", [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6] },
        { "d", [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7] },
        { "e", [1, 1, 1, 4, 4, 4, 4] },
        { "f", [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3] },
    };

    /// <summary>Paper §5.3, Figure 7: whatever the follower's log, the leader repairs it to its own.</summary>
    [Theory]
    [MemberData(nameof(Figure7Followers))]
    public void Section_5_3_figure_7_a_follower_log_is_repaired_to_the_leaders(string name, ulong[] followerLog)
    {
        var c = new ManualCluster(Three, new()
        {
            [1] = (7, LeaderLog),
            [2] = (followerLog.Max(), followerLog),
            [3] = (6, LeaderLog),
        });
        c.Nodes[1].Campaign();
        c.Deliver();
        Assert.Equal(StateRole.Leader, c.Nodes[1].Status.Role);
        Assert.Equal(8UL, c.Nodes[1].Status.Term);
        for (var i = 0; i < 3; i++)
        {
            c.Nodes[1].Tick();
            c.Deliver();
        }
        ulong[] expected = [.. LeaderLog, 8];
        Assert.True(expected.SequenceEqual(c.LogTerms(2)), $"follower ({name}) has [{string.Join(',', c.LogTerms(2))}]");
        Assert.Equal(11UL, c.Nodes[2].Status.Commit);
    }

    /// <summary>Paper §5.4.1: a voter denies its vote to a candidate whose log is less up to date.</summary>
    [Fact]
    public void Section_5_4_1_election_restriction_a_stale_candidate_cannot_win()
    {
        var c = new ManualCluster(Three, new()
        {
            [1] = (3, [1, 1]),
            [2] = (3, [1, 1, 3]),
            [3] = (3, [1, 2]),
        });
        c.Nodes[1].Campaign();
        c.Deliver();
        Assert.NotEqual(StateRole.Leader, c.Nodes[1].Status.Role);
        c.Nodes[2].Campaign();
        c.Deliver();
        Assert.Equal(StateRole.Leader, c.Nodes[2].Status.Role);
    }

    /// <summary>Paper §5.2: each server votes for at most one candidate per term.</summary>
    [Fact]
    public void Section_5_2_at_most_one_vote_per_term()
    {
        var c = new ManualCluster(Three, new()
        {
            [1] = (1, [1]),
            [2] = (1, [1]),
            [3] = (1, [1]),
        });
        // 1 and 2 campaign in the same term; 3 hears 1 first.
        c.Cut.Add((2, 3));
        c.Cut.Add((1, 2));
        c.Cut.Add((2, 1));
        c.Nodes[1].Campaign();
        c.Nodes[2].Campaign();
        c.Deliver();
        c.Cut.Clear();
        Assert.Equal(StateRole.Leader, c.Nodes[1].Status.Role);
        Assert.Equal(1UL, c.Storage[3].HardState.Vote);
        Assert.NotEqual(StateRole.Leader, c.Nodes[2].Status.Role);
    }

    /// <summary>
    /// Paper §5.4.2, Figure 8: a leader does not commit an entry of an earlier term by counting replicas,
    /// only through an entry of its own term.
    /// </summary>
    [Fact]
    public void Section_5_4_2_old_term_entries_commit_only_with_a_current_term_entry()
    {
        // Server 1 has an uncommitted entry of term 2 at index 2 that is on a majority (1 and 2).
        var c = new ManualCluster(Three, new()
        {
            [1] = (3, [1, 2]),
            [2] = (3, [1, 2]),
            [3] = (3, [1]),
        });
        // Server 1 becomes leader of term 4. Its log's index 2 (term 2) is already on a majority, but the
        // commit index must go straight from 0 to 3 (the term-4 no-op), never stopping at 2.
        var seen = new HashSet<ulong>();
        c.AfterEachMessage = () => seen.Add(c.Nodes[1].Status.Commit);
        c.Nodes[1].Campaign();
        c.Deliver();
        Assert.Equal(StateRole.Leader, c.Nodes[1].Status.Role);
        Assert.Equal(3UL, c.Nodes[1].Status.Commit);
        Assert.DoesNotContain(2UL, seen);
        Assert.DoesNotContain(1UL, seen);

        // The rule itself: the leader's log refuses to commit index 2 (term 2) in term 4 even with a majority.
        var storage = new MemoryRaftStorage();
        storage.Save(null, [new Entry(1, 1, ReadOnlyMemory<byte>.Empty), new Entry(2, 2, ReadOnlyMemory<byte>.Empty)]);
        var log = new Log.RaftLog(storage, 0);
        Assert.False(log.MaybeCommit(2, term: 4));
        Assert.Equal(0UL, log.Committed);
        Assert.True(log.MaybeCommit(2, term: 2));
    }

    /// <summary>Thesis §6.4 / paper §8: a new leader appends a no-op entry of its term at once.</summary>
    [Fact]
    public void Section_8_a_new_leader_appends_a_no_op()
    {
        var c = new ManualCluster(Three, new()
        {
            [1] = (1, [1]),
            [2] = (1, [1]),
            [3] = (1, [1]),
        });
        c.Nodes[1].Campaign();
        c.Deliver();
        Assert.Equal(new ulong[] { 1, 2 }, c.LogTerms(1));
        Assert.Equal(2UL, c.Nodes[1].Status.Commit);
    }

    /// <summary>
    /// Thesis §9.6: a PreVote round changes no term, so losing it raises nobody's term. A member that refuses it
    /// for a log less up to date than its own, with no leader holding it, starts its own election at once (it would
    /// win where the sender cannot): one term is spent, by a member with the longer log.
    /// </summary>
    [Fact]
    public void Thesis_9_6_a_PreVote_that_cannot_win_raises_no_term_and_an_up_to_date_refuser_takes_over()
    {
        var c = new ManualCluster(Three, new()
        {
            [1] = (5, [1]),
            [2] = (5, [1, 5]),
            [3] = (5, [1, 5]),
        }, preVote: true);
        c.Nodes[1].Campaign();
        // Only the pre-vote and its refusals: no term moved.
        c.Deliver(maxMessages: 2);
        Assert.All(c.Nodes.Values, n => Assert.Equal(5UL, n.Status.Term));
        c.Deliver();
        Assert.NotEqual(StateRole.Leader, c.Nodes[1].Status.Role);
        var leader = c.Nodes.Single(n => n.Value.Status.Role == StateRole.Leader).Key;
        Assert.Contains(leader, new ulong[] { 2, 3 });
        Assert.All(c.Nodes.Values, n => Assert.Equal(6UL, n.Status.Term));
    }

    /// <summary>
    /// Thesis §9.6 with a third member down: two pre-candidates that start together do not both become
    /// candidates and split the vote. With equal logs the higher id wins; with unequal logs the longer log wins,
    /// whatever the ids. One term is spent either way.
    /// </summary>
    [Theory]
    [InlineData(new ulong[] { 1, 5 }, new ulong[] { 1, 5 }, 2UL)]
    [InlineData(new ulong[] { 1, 5, 5 }, new ulong[] { 1, 5 }, 1UL)]
    [InlineData(new ulong[] { 1, 5 }, new ulong[] { 1, 5, 5 }, 2UL)]
    [InlineData(new ulong[] { 1, 6 }, new ulong[] { 1, 5, 5 }, 1UL)]
    public void Thesis9_6_SimultaneousPreCandidates_ElectOneLeaderInOneTerm(ulong[] log1, ulong[] log2, ulong winner)
    {
        // Member 3 is down: messages to it are lost, so each pre-candidate needs the other's grant.
        var c = new ManualCluster(Three, new()
        {
            [1] = (6, log1),
            [2] = (6, log2),
        }, preVote: true);
        c.Nodes[1].Campaign();
        c.Nodes[2].Campaign();
        c.Deliver();
        var loser = winner == 1 ? 2UL : 1UL;
        Assert.Equal(StateRole.Leader, c.Nodes[winner].Status.Role);
        Assert.Equal(StateRole.Follower, c.Nodes[loser].Status.Role);
        Assert.Equal(7UL, c.Nodes[winner].Status.Term);
        Assert.Equal(7UL, c.Nodes[loser].Status.Term);
    }

    /// <summary>
    /// The tie-break between pre-candidates holds only in the tick their pre-votes started. Five members, 4 and 5
    /// down, 2 and 3 cut from each other: 3 cannot win (it reaches only 1), but stays a pre-candidate; 1 can
    /// win only with 3's grant, which 3 must give once its own pre-vote is older than a tick, whatever the ids.
    /// </summary>
    [Fact]
    public void Thesis_9_6_a_pre_candidate_that_cannot_win_still_grants_the_one_that_can()
    {
        var c = new ManualCluster(ConfState.OfVoters(1, 2, 3, 4, 5), new()
        {
            [1] = (6, [1, 5]),
            [2] = (6, [1, 5]),
            [3] = (6, [1, 5]),
        }, preVote: true);
        c.Cut.Add((2, 3));
        c.Cut.Add((3, 2));
        c.Nodes[3].Campaign();
        c.Deliver();
        Assert.Equal(StateRole.PreCandidate, c.Nodes[3].Status.Role);
        c.Nodes[3].Tick(); // less than an election timeout: 3 is still a pre-candidate, its pre-vote a tick old
        Assert.Equal(StateRole.PreCandidate, c.Nodes[3].Status.Role);
        c.Nodes[1].Campaign();
        c.Deliver();
        Assert.Equal(StateRole.Leader, c.Nodes[1].Status.Role);
        Assert.Equal(7UL, c.Nodes[1].Status.Term);
    }

    /// <summary>Paper §5.1: a server that sees a higher term reverts to follower and adopts it.</summary>
    [Fact]
    public void Section_5_1_a_higher_term_turns_a_leader_into_a_follower()
    {
        var c = ManualCluster.ThreeLedByOne();
        c.Nodes[1].Step(new Message { Type = MessageType.Append, From = 3, To = 1, Term = 9, Index = 0, LogTerm = 0 });
        Assert.Equal(StateRole.Follower, c.Nodes[1].Status.Role);
        Assert.Equal(9UL, c.Nodes[1].Status.Term);
    }

    /// <summary>
    /// Figure 2, RequestVote receiver rule 1: reply false if term &lt; currentTerm, with the current term, so that a
    /// candidate of an older term learns the newer one. Without the answer, a candidate that nobody else sends to (its
    /// peers see it as removed or as a learner) campaigns in its old term for ever (found by the simulator, seeds 1593
    /// and 3505).
    /// </summary>
    [Fact]
    public void Section_5_1_a_vote_request_of_a_stale_term_is_refused_with_the_current_term()
    {
        var c = new ManualCluster(ConfState.OfVoters(1, 2), new()
        {
            [1] = (3, [1]),
            [2] = (5, [1]),
        });
        c.Nodes[1].Campaign(); // term 4, still below member 2's
        c.Deliver();
        Assert.Equal(1, c.Delivered.GetValueOrDefault(MessageType.VoteResponse));
        Assert.Equal(5UL, c.Nodes[1].Status.Term);
        Assert.Equal(StateRole.Follower, c.Nodes[1].Status.Role);
        Assert.Equal(5UL, c.Nodes[2].Status.Term);
        Assert.Equal(0UL, c.Nodes[2].Status.Vote);
    }

    /// <summary>
    /// Paper §5.2 with the lease of thesis §9.6: a follower's election timeout is drawn from
    /// [ElectionTick + 1, 2 × ElectionTick], never ElectionTick itself, so that when it asks for a pre-vote every other
    /// follower that heard the same last message from the leader has counted at least ElectionTick ticks (members tick
    /// on their own clocks, up to a tick apart) and is out of its lease.
    /// </summary>
    [Fact]
    public void Section_5_2_the_election_timeout_is_drawn_from_above_the_lease()
    {
        var seen = new SortedSet<int>();
        for (var seed = 0; seed < 200; seed++)
        {
            var storage = new MemoryRaftStorage();
            storage.ApplySnapshot(new SnapshotMetadata(0, 0, Three), ReadOnlyMemory<byte>.Empty);
            var node = new RaftNode(new RaftConfig { Id = 1, Storage = storage, Random = new Random(seed), PreVote = true, CheckQuorum = true });
            var ticks = 0;
            while (node.Status.Role == StateRole.Follower && ticks < 100)
            {
                node.Tick();
                ticks++;
            }
            seen.Add(ticks);
        }
        Assert.Equal(11, seen.Min);
        Assert.Equal(20, seen.Max);
        Assert.Equal(10, seen.Count);
    }

    /// <summary>
    /// Paper §5.2, switched off: without randomization every election timeout is ElectionTick + 1 ticks, whatever the
    /// seed and however often it is reset — the lab's split-vote scenario relies on followers timing out together.
    /// </summary>
    [Fact]
    public void Section_5_2_without_randomization_every_election_timeout_is_the_same()
    {
        var seen = new SortedSet<int>();
        for (var seed = 0; seed < 50; seed++)
        {
            var storage = new MemoryRaftStorage();
            storage.ApplySnapshot(new SnapshotMetadata(0, 0, Three), ReadOnlyMemory<byte>.Empty);
            var node = new RaftNode(new RaftConfig { Id = 1, Storage = storage, Random = new Random(seed), PreVote = false, RandomizedElectionTimeout = false });
            for (var election = 0; election < 3; election++)
            {
                var term = node.Status.Term;
                var ticks = 0;
                while (node.Status.Term == term && ticks < 100)
                {
                    node.Tick();
                    ticks++;
                }
                seen.Add(ticks);
            }
        }
        Assert.Equal([11], seen);
    }
}
