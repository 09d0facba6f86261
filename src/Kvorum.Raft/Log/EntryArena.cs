namespace Kvorum.Raft.Log;

/// <summary>
/// One growing buffer that every outgoing Append of a <see cref="Ready"/> slices its entries from, so
/// replication allocates no per-entry arrays in the steady state. Slices stay valid until
/// <see cref="Reset"/>, which <c>RaftNode.Advance</c> calls once the host has sent the Ready's messages.
/// </summary>
internal sealed class EntryArena
{
    private Entry[] _buffer = new Entry[256];

    // Invariant: _used <= _buffer.Length; slices handed out since the last Reset lie in [0, _used).
    private int _used;

    /// <summary>Copies <paramref name="entries"/> into the arena and returns the slice holding them.</summary>
    public ReadOnlyMemory<Entry> Copy(List<Entry> entries)
    {
        if (entries.Count == 0)
            return ReadOnlyMemory<Entry>.Empty;
        if (_used + entries.Count > _buffer.Length)
        {
            // Earlier slices keep referencing the old buffer, which stays alive as long as they do.
            _buffer = new Entry[Math.Max(_buffer.Length * 2, entries.Count)];
            _used = 0;
        }
        entries.CopyTo(_buffer, _used);
        var slice = new ReadOnlyMemory<Entry>(_buffer, _used, entries.Count);
        _used += entries.Count;
        return slice;
    }

    /// <summary>Every slice handed out is no longer needed.</summary>
    public void Reset() => _used = 0;
}
