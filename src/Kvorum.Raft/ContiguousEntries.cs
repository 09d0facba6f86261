namespace Kvorum.Raft;

/// <summary>
/// Log entries with consecutive indexes held in memory from <see cref="Start"/> on: the slicing, truncation and
/// compaction arithmetic that <see cref="MemoryRaftStorage"/> and Kvorum.Storage's <c>LogState</c> share. What
/// lies before <see cref="Start"/> (a snapshot, or entries not known yet) is the owner's business.
/// </summary>
/// <remarks>Invariant: <c>_entries[i].Index == Start + i</c>.</remarks>
internal sealed class ContiguousEntries
{
    private readonly List<Entry> _entries = [];

    /// <summary>Starts empty, the first entry expected at <paramref name="start"/>.</summary>
    public ContiguousEntries(ulong start) => Start = start;

    /// <summary>Index of the first entry held, or of the next entry expected while none is.</summary>
    public ulong Start { get; private set; }

    /// <summary>Index of the last entry held, or <c>Start - 1</c> while none is.</summary>
    public ulong Last => Start - 1 + (ulong)_entries.Count;

    /// <summary>Number of entries held.</summary>
    public int Count => _entries.Count;

    /// <summary>The entry at <paramref name="index"/>, which must be held.</summary>
    public Entry this[ulong index] => _entries[(int)(index - Start)];

    /// <summary>Gets the term of the entry at <paramref name="index"/>; false if it is not held.</summary>
    public bool TryGetTerm(ulong index, out ulong term)
    {
        if (index < Start || index > Last)
        {
            term = 0;
            return false;
        }
        term = _entries[(int)(index - Start)].Term;
        return true;
    }

    /// <summary>The contract of <see cref="IRaftStorage.GetEntries"/>, for the entries held.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lo"/> is before <see cref="Start"/> or <paramref name="hi"/> is past the end.</exception>
    public void GetEntries(ulong lo, ulong hi, long maxBytes, List<Entry> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        if (lo < Start)
            throw new ArgumentOutOfRangeException(nameof(lo), $"index {lo} is compacted (first index {Start})");
        if (hi > Last + 1 || lo > hi)
            throw new ArgumentOutOfRangeException(nameof(hi), $"range [{lo}, {hi}) is past the last index {Last}");
        long size = 0;
        for (var i = lo; i < hi; i++)
        {
            var e = _entries[(int)(i - Start)];
            size += e.Size;
            if (size > maxBytes && i > lo)
                break;
            into.Add(e);
        }
    }

    /// <summary>
    /// Appends <paramref name="entry"/> after dropping any entries at or after its index (a conflict truncation). An
    /// index before <see cref="Start"/> drops everything and starts there.
    /// </summary>
    /// <exception cref="InvalidOperationException">The entry would leave a gap after <see cref="Last"/>.</exception>
    public void Append(in Entry entry)
    {
        var index = entry.Index;
        if (index < Start)
        {
            _entries.Clear();
            Start = index;
        }
        else if (index > Last + 1)
        {
            throw new InvalidOperationException($"gap in log: appending {index} after {Last}");
        }
        else
        {
            var keep = (int)(index - Start);
            if (keep < _entries.Count)
                _entries.RemoveRange(keep, _entries.Count - keep);
        }
        _entries.Add(entry);
    }

    /// <summary>
    /// Drops the entries up to and including <paramref name="index"/>, which must be at most <see cref="Last"/>
    /// (compaction); the entry after it becomes the first. Nothing happens for an index before <see cref="Start"/>.
    /// </summary>
    public void DropThrough(ulong index)
    {
        if (index < Start)
            return;
        _entries.RemoveRange(0, (int)(index - Start + 1));
        Start = index + 1;
    }

    /// <summary>Drops every entry; the next one expected is at <paramref name="start"/>.</summary>
    public void Reset(ulong start)
    {
        _entries.Clear();
        Start = start;
    }
}
