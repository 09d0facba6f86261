using System.Collections.Immutable;

namespace Kvorum.Raft;

/// <summary>
/// A cluster membership: the voters, whose majority decides elections and commitment, and the
/// learners, which receive the log but never vote (thesis §4.2.1). Immutable; a change makes a new one.
/// </summary>
public sealed class ConfState : IEquatable<ConfState>
{
    /// <summary>The empty configuration (a server that has not been bootstrapped).</summary>
    public static readonly ConfState Empty = new([], []);

    /// <summary>Creates a configuration. A node may not be both a voter and a learner.</summary>
    public ConfState(IEnumerable<ulong> voters, IEnumerable<ulong> learners)
    {
        ArgumentNullException.ThrowIfNull(voters);
        ArgumentNullException.ThrowIfNull(learners);
        Voters = [.. voters.Distinct().Order()];
        Learners = [.. learners.Distinct().Order()];
        foreach (var id in Voters)
        {
            if (id == 0)
                throw new ArgumentException("node id 0 is reserved for 'none'", nameof(voters));
            if (Learners.Contains(id))
                throw new ArgumentException($"node {id} cannot be both voter and learner", nameof(learners));
        }
    }

    /// <summary>Creates a configuration of voters only.</summary>
    public static ConfState OfVoters(params ulong[] voters) => new(voters, []);

    /// <summary>Voting members, sorted.</summary>
    public ImmutableArray<ulong> Voters { get; }

    /// <summary>Non-voting members, sorted.</summary>
    public ImmutableArray<ulong> Learners { get; }

    /// <summary>True if <paramref name="id"/> votes.</summary>
    public bool IsVoter(ulong id) => Voters.Contains(id);

    /// <summary>True if <paramref name="id"/> is a learner.</summary>
    public bool IsLearner(ulong id) => Learners.Contains(id);

    /// <summary>True if <paramref name="id"/> is a voter or a learner.</summary>
    public bool Contains(ulong id) => IsVoter(id) || IsLearner(id);

    /// <summary>Every member, voters first.</summary>
    public IEnumerable<ulong> All => Voters.Concat(Learners);

    /// <summary>Returns the configuration after <paramref name="change"/>, or throws if it is not valid here.</summary>
    public ConfState Apply(ConfChange change)
    {
        if (change.NodeId == 0)
            throw new InvalidOperationException("conf change names node 0");
        switch (change.Type)
        {
            case ConfChangeType.AddVoter:
                if (IsVoter(change.NodeId))
                    throw new InvalidOperationException($"node {change.NodeId} is already a voter");
                return new ConfState(Voters.Add(change.NodeId), Learners.Remove(change.NodeId));
            case ConfChangeType.AddLearner:
                if (Contains(change.NodeId))
                    throw new InvalidOperationException($"node {change.NodeId} is already a member");
                return new ConfState(Voters, Learners.Add(change.NodeId));
            case ConfChangeType.RemoveNode:
                if (!Contains(change.NodeId))
                    throw new InvalidOperationException($"node {change.NodeId} is not a member");
                // A configuration without voters has no majority: nothing could be committed or elected again.
                if (Voters.Length == 1 && IsVoter(change.NodeId))
                    throw new InvalidOperationException($"removing node {change.NodeId} would remove all voters");
                return new ConfState(Voters.Remove(change.NodeId), Learners.Remove(change.NodeId));
            default:
                throw new InvalidOperationException($"unknown conf change type {change.Type}");
        }
    }

    /// <inheritdoc />
    public bool Equals(ConfState? other) =>
        other is not null && Voters.SequenceEqual(other.Voters) && Learners.SequenceEqual(other.Learners);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ConfState);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var v in Voters) h.Add(v);
        h.Add(-1);
        foreach (var l in Learners) h.Add(l);
        return h.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"voters=({string.Join(' ', Voters)}) learners=({string.Join(' ', Learners)})";
}
