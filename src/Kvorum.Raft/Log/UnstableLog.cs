using System.Diagnostics;

namespace Kvorum.Raft.Log;

/// <summary>
/// Entries and a snapshot that the core has accepted but the host has not yet persisted. They are
/// handed out in <see cref="Ready"/> and become stable when the host calls <see cref="RaftNode.Advance"/>,
/// or, for a write the host finishes later, <see cref="RaftNode.ReportPersisted"/>.
/// </summary>
internal sealed class UnstableLog
{
    // Invariant: Entries[i].Index == Offset + i, and if Snapshot != null then Offset == Snapshot.Index + 1.
    // Invariant: Offset <= InProgress <= Offset + Count.
    private readonly List<Entry> _entries = [];

    /// <summary>Index of the first unstable entry (or where it would be).</summary>
    public ulong Offset { get; private set; }

    /// <summary>
    /// Index of the first entry not yet handed to the host to persist. Entries from <see cref="Offset"/> up to
    /// it are being written by the host (<see cref="RaftNode.AdvanceBeforePersisted"/>) and not known durable.
    /// </summary>
    public ulong InProgress { get; private set; }

    /// <summary>True if some entries have not been handed to the host to persist yet.</summary>
    public bool HasEntriesToPersist => InProgress < Offset + (ulong)_entries.Count;

    /// <summary>Copies the entries not yet handed to the host into <paramref name="into"/>.</summary>
    public void CopyEntriesToPersist(List<Entry> into)
    {
        for (var i = (int)(InProgress - Offset); i < _entries.Count; i++)
            into.Add(_entries[i]);
    }

    /// <summary>The host has started writing every entry up to <paramref name="index"/>.</summary>
    public void MarkInProgress(ulong index)
    {
        InProgress = Math.Max(InProgress, Math.Min(index + 1, Offset + (ulong)_entries.Count));
        CheckInvariants();
    }

    /// <summary>A snapshot received from the leader and not yet persisted.</summary>
    public SnapshotMetadata? Snapshot { get; private set; }

    public IReadOnlyList<Entry> Entries => _entries;

    public int Count => _entries.Count;

    public UnstableLog(ulong offset) => Offset = InProgress = offset;

    public bool TryGetLastIndex(out ulong index)
    {
        if (_entries.Count > 0)
        {
            index = Offset + (ulong)_entries.Count - 1;
            return true;
        }
        if (Snapshot is not null)
        {
            index = Snapshot.Index;
            return true;
        }
        index = 0;
        return false;
    }

    public bool TryGetFirstIndex(out ulong index)
    {
        if (Snapshot is not null)
        {
            index = Snapshot.Index + 1;
            return true;
        }
        index = 0;
        return false;
    }

    public bool TryGetTerm(ulong index, out ulong term)
    {
        if (index < Offset)
        {
            if (Snapshot is not null && Snapshot.Index == index)
            {
                term = Snapshot.Term;
                return true;
            }
            term = 0;
            return false;
        }
        var i = index - Offset;
        if (i >= (ulong)_entries.Count)
        {
            term = 0;
            return false;
        }
        term = _entries[(int)i].Term;
        return true;
    }

    public Entry At(ulong index) => _entries[(int)(index - Offset)];

    /// <summary>Stores <paramref name="entries"/>, replacing any unstable suffix from the first one's index.</summary>
    public void TruncateAndAppend(ReadOnlySpan<Entry> entries)
    {
        var after = entries[0].Index;
        var end = Offset + (ulong)_entries.Count;
        if (after == end)
        {
            // Plain append.
        }
        else if (after <= Offset)
        {
            // Replaces everything unstable; the storage's entries from `after` on will be overwritten when persisted.
            Offset = InProgress = after;
            _entries.Clear();
        }
        else
        {
            _entries.RemoveRange((int)(after - Offset), (int)(end - after));
            // Entries being written that were replaced must be handed out again (the host writes in order, so
            // the replacement lands after them).
            InProgress = Math.Min(InProgress, after);
        }
        foreach (var e in entries)
            _entries.Add(e);
        CheckInvariants();
    }

    public void Restore(SnapshotMetadata snapshot)
    {
        Offset = InProgress = snapshot.Index + 1;
        _entries.Clear();
        Snapshot = snapshot;
    }

    /// <summary>The host persisted entries up to (<paramref name="index"/>, <paramref name="term"/>).</summary>
    public void StableTo(ulong index, ulong term)
    {
        if (!TryGetTerm(index, out var t) || t != term || index < Offset)
            return; // Replaced since it was handed out; it will be handed out again.
        var n = (int)(index + 1 - Offset);
        _entries.RemoveRange(0, n);
        Offset = index + 1;
        InProgress = Math.Max(InProgress, Offset);
        CheckInvariants();
    }

    [Conditional("DEBUG")]
    private void CheckInvariants()
    {
        Debug.Assert(_entries.Count == 0 || _entries[^1].Index == Offset + (ulong)_entries.Count - 1, "entries are contiguous from Offset");
        Debug.Assert(Offset <= InProgress && InProgress <= Offset + (ulong)_entries.Count, "Offset <= InProgress <= end");
    }

    public void StableSnapshotTo(ulong index)
    {
        if (Snapshot is not null && Snapshot.Index == index)
            Snapshot = null;
    }

    public void CopyTo(ulong lo, ulong hi, List<Entry> into, ref long budget)
    {
        for (var i = lo; i < hi; i++)
        {
            var e = _entries[(int)(i - Offset)];
            if (budget - e.Size < 0 && into.Count > 0)
            {
                budget = -1;
                return;
            }
            budget -= e.Size;
            into.Add(e);
        }
    }
}
