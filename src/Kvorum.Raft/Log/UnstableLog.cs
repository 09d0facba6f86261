using System.Diagnostics;

namespace Kvorum.Raft.Log;

/// <summary>
/// Entries and a snapshot that the core has accepted but the host has not yet persisted. They are
/// handed out in <see cref="Ready"/> and become stable when the host calls <see cref="RaftNode.Advance"/>.
/// </summary>
internal sealed class UnstableLog
{
    // Invariant: Entries[i].Index == Offset + i, and if Snapshot != null then Offset == Snapshot.Index + 1.
    private readonly List<Entry> _entries = [];

    /// <summary>Index of the first unstable entry (or where it would be).</summary>
    public ulong Offset { get; private set; }

    /// <summary>A snapshot received from the leader and not yet persisted.</summary>
    public SnapshotMetadata? Snapshot { get; private set; }

    public IReadOnlyList<Entry> Entries => _entries;

    public int Count => _entries.Count;

    public UnstableLog(ulong offset) => Offset = offset;

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
            Offset = after;
            _entries.Clear();
        }
        else
        {
            _entries.RemoveRange((int)(after - Offset), (int)(end - after));
        }
        foreach (var e in entries)
            _entries.Add(e);
        Debug.Assert(_entries.Count == 0 || _entries[^1].Index == Offset + (ulong)_entries.Count - 1);
    }

    public void Restore(SnapshotMetadata snapshot)
    {
        Offset = snapshot.Index + 1;
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
