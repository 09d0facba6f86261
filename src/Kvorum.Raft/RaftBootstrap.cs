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
        ArgumentNullException.ThrowIfNull(initial);
        Write(storage, initial.Voters.Select(id => new ConfChange(ConfChangeType.AddVoter, id))
            .Concat(initial.Learners.Select(id => new ConfChange(ConfChangeType.AddLearner, id))));
    }

    /// <summary>
    /// Bootstraps <paramref name="storage"/> with explicit changes, so each can carry a context (the
    /// server keeps member names and URLs there). Every initial member must write the same changes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The storage already holds state.</exception>
    public static void Write(IRaftLogStore storage, IEnumerable<ConfChange> changes)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(changes);
        if (storage.LastIndex != 0 || !storage.HardState.IsEmpty)
            throw new InvalidOperationException("cannot bootstrap: storage is not empty");
        var entries = new List<Entry>();
        foreach (var change in changes)
            entries.Add(new Entry((ulong)entries.Count + 1, 1, EntryType.ConfChange, change.Encode()));
        storage.Save(new HardState(1, 0, (ulong)entries.Count), entries.ToArray());
    }
}
