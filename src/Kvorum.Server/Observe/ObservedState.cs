using Kvorum.Raft;
using Kvorum.Raft.Tracking;

namespace Kvorum.Server.Observe;

/// <summary>A run of consecutive log entries of one term, from <paramref name="FirstIndex"/> to the next run's start.</summary>
internal readonly record struct TermRun(ulong FirstIndex, ulong Term);

/// <summary>A member's replication progress as its leader tracks it.</summary>
internal readonly record struct ObservedProgress(ulong Id, ulong Match, ulong Next, ProgressState State);

/// <summary>
/// A member's Raft state at one moment, exact: built on the member loop from its core (<see cref="Read"/>), immutable
/// once built, so every watcher's queue can hold the same one.
/// </summary>
internal sealed class ObservedState
{
    /// <summary>How many of the log's last entries have their terms reported.</summary>
    public const int TailEntries = 64;

    public required ulong Id { get; init; }
    public required StateRole Role { get; init; }
    public required ulong Term { get; init; }
    public required ulong Vote { get; init; }
    public required ulong Leader { get; init; }
    public required ulong Commit { get; init; }
    public required ulong Applied { get; init; }
    public required ulong FirstIndex { get; init; }
    public required ulong LastIndex { get; init; }

    /// <summary>The term of the last entry (0 for an empty log): tells a rewritten tail of the same length apart.</summary>
    public required ulong LastTerm { get; init; }

    public required IReadOnlyList<TermRun> LogTail { get; init; }
    public required IReadOnlyList<ObservedProgress> Peers { get; init; }
    public required int ElectionElapsed { get; init; }
    public required int RandomizedElectionTimeout { get; init; }
    public required int TickMs { get; init; }
    public required bool Learner { get; init; }

    /// <summary>In the lab, the member's fault state as the lab wrote it (<see cref="LabStateFile"/>); empty otherwise.</summary>
    public string LabFaults { get; init; } = "";

    /// <summary>Reads the state of <paramref name="raft"/>; <paramref name="progress"/> holds what <see cref="RaftNode.CopyProgress"/> copied.</summary>
    public static ObservedState Read(RaftNode raft, ulong applied, bool learner, int tickMs, List<KeyValuePair<ulong, ProgressStatus>> progress, string labFaults = "")
    {
        var last = raft.LastIndex;
        var first = raft.FirstIndex;
        var from = Math.Max(first, last >= TailEntries ? last - TailEntries + 1 : 1);
        var runs = new List<TermRun>();
        for (var i = from; i <= last; i++)
        {
            var term = raft.TermAt(i);
            if (runs.Count == 0 || runs[^1].Term != term)
                runs.Add(new TermRun(i, term));
        }
        var peers = new ObservedProgress[progress.Count];
        for (var i = 0; i < peers.Length; i++)
        {
            var (id, p) = progress[i];
            peers[i] = new ObservedProgress(id, p.Match, p.Next, p.State);
        }
        Array.Sort(peers, static (a, b) => a.Id.CompareTo(b.Id));
        return new ObservedState
        {
            Id = raft.Id,
            Role = raft.Role,
            Term = raft.Term,
            Vote = raft.Vote,
            Leader = raft.Lead,
            Commit = raft.Committed,
            Applied = applied,
            FirstIndex = first,
            LastIndex = last,
            LastTerm = raft.TermAt(last),
            LogTail = runs,
            Peers = peers,
            ElectionElapsed = raft.ElectionElapsed,
            RandomizedElectionTimeout = raft.RandomizedElectionTimeout,
            TickMs = tickMs,
            Learner = learner,
            LabFaults = labFaults,
        };
    }

    /// <summary>
    /// True when <paramref name="raft"/> is still in this state, without allocating: the election timer counts as changed
    /// only when it was reset (it runs on between two states, and a watcher advances it itself).
    /// </summary>
    public bool IsCurrent(RaftNode raft, ulong applied, bool learner, List<KeyValuePair<ulong, ProgressStatus>> progress)
    {
        if (raft.Term != Term || raft.Role != Role || raft.Vote != Vote || raft.Lead != Leader || raft.Committed != Commit
            || applied != Applied || raft.LastIndex != LastIndex || raft.FirstIndex != FirstIndex || learner != Learner
            || raft.RandomizedElectionTimeout != RandomizedElectionTimeout || raft.ElectionElapsed < ElectionElapsed
            || raft.TermAt(LastIndex) != LastTerm || progress.Count != Peers.Count)
            return false;
        foreach (var (id, p) in progress)
        {
            if (!Contains(new ObservedProgress(id, p.Match, p.Next, p.State)))
                return false;
        }
        return true;
    }

    private bool Contains(ObservedProgress progress)
    {
        foreach (var p in Peers)
        {
            if (p == progress)
                return true;
        }
        return false;
    }
}
