using System.Diagnostics;

namespace Kvorum.Raft.Log;

/// <summary>
/// The log as the core sees it: the persisted part in <see cref="IRaftStorage"/> followed by the
/// <see cref="UnstableLog"/>, and the commit and apply cursors.
/// </summary>
internal sealed class RaftLog
{
    private readonly IRaftStorage _storage;
    private readonly UnstableLog _unstable;
    private readonly List<Entry> _scratch = [];
    private readonly List<Entry> _ours = [];

    // Invariant: Applied <= Committed <= LastIndex.

    public RaftLog(IRaftStorage storage, ulong applied)
    {
        _storage = storage;
        _unstable = new UnstableLog(storage.LastIndex + 1);
        Committed = storage.FirstIndex - 1;
        Applied = Math.Max(applied, storage.FirstIndex - 1);
    }

    public ulong Committed { get; private set; }

    public ulong Applied { get; private set; }

    public UnstableLog Unstable => _unstable;

    public IRaftStorage Storage => _storage;

    public ulong FirstIndex => _unstable.TryGetFirstIndex(out var i) ? i : _storage.FirstIndex;

    public ulong LastIndex => _unstable.TryGetLastIndex(out var i) ? i : _storage.LastIndex;

    /// <summary>Index of the last entry the host has persisted.</summary>
    public ulong PersistedLastIndex => Math.Min(_unstable.Offset - 1, _storage.LastIndex);

    public ulong LastTerm => TryGetTerm(LastIndex, out var t) ? t : throw new InvalidOperationException("last term unavailable");

    /// <summary>Term of the entry at <paramref name="index"/>; false if compacted or beyond the end.</summary>
    public bool TryGetTerm(ulong index, out ulong term)
    {
        if (index + 1 < FirstIndex || index > LastIndex)
        {
            term = 0;
            return false;
        }
        if (_unstable.TryGetTerm(index, out term))
            return true;
        return _storage.TryGetTerm(index, out term);
    }

    /// <summary>Term at <paramref name="index"/>, or 0 if unknown.</summary>
    public ulong TermOrZero(ulong index) => TryGetTerm(index, out var t) ? t : 0;

    public bool MatchTerm(ulong index, ulong term) => TryGetTerm(index, out var t) && t == term;

    /// <summary>The election restriction (paper §5.4.1): is (lastIndex, lastTerm) at least as up to date as ours?</summary>
    public bool IsUpToDate(ulong lastIndex, ulong lastTerm)
    {
        var ourTerm = LastTerm;
        return lastTerm > ourTerm || (lastTerm == ourTerm && lastIndex >= LastIndex);
    }

    /// <summary>Appends entries at the end (or replacing a suffix) without checks; returns the new last index.</summary>
    public ulong Append(ReadOnlySpan<Entry> entries)
    {
        if (entries.IsEmpty)
            return LastIndex;
        if (entries[0].Index - 1 < Committed)
            throw new InvalidOperationException($"entry {entries[0].Index} would overwrite committed index {Committed}");
        _unstable.TruncateAndAppend(entries);
        return LastIndex;
    }

    /// <summary>
    /// The follower side of AppendEntries (paper §5.3): if our log has (prevIndex, prevTerm), store the
    /// entries (removing any conflicting suffix) and advance the commit index. Returns the index of the
    /// last new entry, or null if the consistency check failed. <paramref name="conflictAt"/> is the
    /// index of the first entry that replaced something (0 if none), so the caller can revert configuration.
    /// </summary>
    public ulong? MaybeAppend(ulong prevIndex, ulong prevTerm, ulong commit, ReadOnlySpan<Entry> entries, out ulong conflictAt)
    {
        conflictAt = 0;
        if (!MatchTerm(prevIndex, prevTerm))
            return null;
        var lastNew = prevIndex + (ulong)entries.Length;
        var firstNew = FindConflict(entries);
        if (firstNew != 0)
        {
            if (firstNew <= Committed)
                throw new InvalidOperationException($"conflict at {firstNew} is at or below committed {Committed}: log matching violated");
            if (firstNew <= LastIndex)
                conflictAt = firstNew;
            Append(entries[(int)(firstNew - prevIndex - 1)..]);
        }
        CommitTo(Math.Min(commit, lastNew));
        return lastNew;
    }

    /// <summary>
    /// Index of the first entry that is new or whose term differs from ours, or 0 if all are present.
    /// </summary>
    /// <exception cref="LogMatchingException">An entry we hold has the same index and term but other contents.</exception>
    private ulong FindConflict(ReadOnlySpan<Entry> entries)
    {
        for (var i = 0; i < entries.Length; i++)
        {
            if (!MatchTerm(entries[i].Index, entries[i].Term))
            {
                CheckSameAsOurs(entries[..i]);
                return entries[i].Index;
            }
        }
        CheckSameAsOurs(entries);
        return 0;
    }

    /// <summary>
    /// Log Matching (paper §5.3): a leader creates at most one entry per index in its term, so two entries with the
    /// same index and term hold the same command. <paramref name="theirs"/>, whose terms match ours, must then be
    /// what we hold, byte for byte; if not, the sender forged them or a bug broke the invariant, and going on would
    /// let this server's state machine part from the others'. Only retransmissions overlap what we hold, so the
    /// steady state compares nothing.
    /// </summary>
    private void CheckSameAsOurs(ReadOnlySpan<Entry> theirs)
    {
        if (theirs.IsEmpty)
            return;
        var lo = Math.Max(theirs[0].Index, FirstIndex); // what a snapshot covers is no longer here to compare
        var hi = theirs[^1].Index + 1;
        if (lo >= hi)
            return;
        _ours.Clear();
        Slice(lo, hi, long.MaxValue, _ours);
        foreach (var ours in _ours)
        {
            var their = theirs[(int)(ours.Index - theirs[0].Index)];
            if (ours.Type != their.Type || !ours.Data.Span.SequenceEqual(their.Data.Span))
                throw new LogMatchingException(ours, their);
        }
        _ours.Clear();
    }

    /// <summary>
    /// Smallest index in [<paramref name="lo"/>, <paramref name="hi"/>] whose term is at least
    /// <paramref name="term"/>; terms never decrease along a log, so a binary search suffices.
    /// </summary>
    public ulong FirstIndexWithTermAtLeast(ulong lo, ulong hi, ulong term)
    {
        while (lo < hi)
        {
            var mid = lo + (hi - lo) / 2;
            if (TermOrZero(mid) >= term)
                hi = mid;
            else
                lo = mid + 1;
        }
        return lo;
    }

    /// <summary>
    /// Largest index in [<paramref name="lo"/>, <paramref name="hi"/>] whose term is at most
    /// <paramref name="term"/>, with that term; or 0 if none is known.
    /// </summary>
    public (ulong Index, ulong Term) LastIndexWithTermAtMost(ulong lo, ulong hi, ulong term)
    {
        if (lo > hi || TermOrZero(lo) > term || !TryGetTerm(lo, out _))
            return (0, 0);
        while (lo < hi)
        {
            var mid = lo + (hi - lo + 1) / 2;
            if (TermOrZero(mid) <= term)
                lo = mid;
            else
                hi = mid - 1;
        }
        return (lo, TermOrZero(lo));
    }

    public void CommitTo(ulong index)
    {
        if (index <= Committed)
            return;
        if (index > LastIndex)
            throw new InvalidOperationException($"commit {index} is past the last index {LastIndex}");
        Committed = index;
    }

    /// <summary>Leader rule (paper §5.4.2): commit <paramref name="index"/> only if its entry is from <paramref name="term"/>.</summary>
    public bool MaybeCommit(ulong index, ulong term)
    {
        if (index > Committed && index <= LastIndex && TermOrZero(index) == term)
        {
            CommitTo(index);
            return true;
        }
        return false;
    }

    public void AppliedTo(ulong index)
    {
        Debug.Assert(index <= Committed, $"applied {index} past committed {Committed}");
        if (index > Applied)
            Applied = index;
    }

    public bool HasNextCommittedEntries => Committed > Applied && _unstable.Snapshot is null;

    /// <summary>Committed entries not yet applied, up to <paramref name="maxBytes"/> (at least one).</summary>
    public void NextCommittedEntries(long maxBytes, List<Entry> into)
    {
        if (HasNextCommittedEntries)
            Slice(Applied + 1, Committed + 1, maxBytes, into);
    }

    /// <summary>Entries [<paramref name="lo"/>, <paramref name="hi"/>) up to <paramref name="maxBytes"/> (at least one).</summary>
    /// <returns>False if <paramref name="lo"/> is compacted.</returns>
    public bool Slice(ulong lo, ulong hi, long maxBytes, List<Entry> into)
    {
        if (lo >= hi)
            return true;
        if (lo < FirstIndex)
            return false;
        if (hi > LastIndex + 1)
            throw new InvalidOperationException($"slice [{lo}, {hi}) past last index {LastIndex}");
        var budget = maxBytes;
        if (lo < _unstable.Offset)
        {
            var storageHi = Math.Min(hi, _unstable.Offset);
            _scratch.Clear();
            _storage.GetEntries(lo, storageHi, maxBytes, _scratch);
            foreach (var e in _scratch)
            {
                budget -= e.Size;
                into.Add(e);
            }
            if ((ulong)_scratch.Count < storageHi - lo || budget < 0)
                return true; // The byte limit stopped us.
        }
        if (hi > _unstable.Offset)
            _unstable.CopyTo(Math.Max(lo, _unstable.Offset), hi, into, ref budget);
        return true;
    }

    /// <summary>A snapshot from the leader replaces the whole log (paper §7).</summary>
    public void Restore(SnapshotMetadata snapshot)
    {
        _unstable.Restore(snapshot);
        Committed = snapshot.Index;
        Applied = snapshot.Index;
    }

    public void StableTo(ulong index, ulong term) => _unstable.StableTo(index, term);

    public void StableSnapshotTo(ulong index) => _unstable.StableSnapshotTo(index);
}
