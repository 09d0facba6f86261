namespace Kvorum.Raft.Tracking;

/// <summary>Outcome of counting votes.</summary>
internal enum VoteResult : byte
{
    Pending,
    Lost,
    Won,
}

/// <summary>Majority arithmetic for one configuration of voters (paper §5.2, §5.3).</summary>
internal static class QuorumMath
{
    /// <summary>Smallest number of voters that is a majority of <paramref name="voters"/>.</summary>
    public static int Majority(int voters) => voters / 2 + 1;

    /// <summary>
    /// The largest value that a majority of <paramref name="values"/> is at or above: for match
    /// indexes, the highest index stored on a majority (the commit candidate). Sorts in place.
    /// An empty configuration yields <see cref="ulong.MaxValue"/> (it agrees to everything), as in etcd.
    /// </summary>
    public static ulong MajorityValue(Span<ulong> values)
    {
        if (values.Length == 0)
            return ulong.MaxValue;
        values.Sort();
        // Sorted ascending, the element at n - majority has a majority at or above it.
        return values[values.Length - Majority(values.Length)];
    }

    /// <summary>Counts granted and rejected votes among <paramref name="voters"/>.</summary>
    public static VoteResult Tally(int voters, int granted, int rejected)
    {
        if (voters == 0)
            return VoteResult.Won;
        var q = Majority(voters);
        if (granted >= q)
            return VoteResult.Won;
        if (voters - rejected < q)
            return VoteResult.Lost;
        return VoteResult.Pending;
    }
}
