namespace Kvorum.Raft;

/// <summary>
/// Writes the first state of a new cluster's member. The initial membership goes into the log as
/// committed ConfChange entries of term 1 (as etcd does), not only into snapshot metadata, so a server
/// that joins later and replays the log from index 1 rebuilds the same configuration.
/// </summary>
public static class RaftBootstrap
{
    /// <summary>
    /// Bootstraps <paramref name="storage"/>, which must be empty, with <paramref name="initial"/>.
    /// Every initial member must be bootstrapped with the same configuration.
    /// </summary>
    /// <exception cref="InvalidOperationException">The storage already holds state.</exception>
    public static void Write(IRaftLogStore storage, ConfState initial)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(initial);
        if (storage.LastIndex != 0 || !storage.HardState.IsEmpty)
            throw new InvalidOperationException("cannot bootstrap: storage is not empty");
        var entries = new List<Entry>();
        foreach (var id in initial.Voters)
            entries.Add(new Entry((ulong)entries.Count + 1, 1, EntryType.ConfChange, new ConfChange(ConfChangeType.AddVoter, id).Encode()));
        foreach (var id in initial.Learners)
            entries.Add(new Entry((ulong)entries.Count + 1, 1, EntryType.ConfChange, new ConfChange(ConfChangeType.AddLearner, id).Encode()));
        storage.Save(new HardState(1, 0, (ulong)entries.Count), entries.ToArray());
    }
}
