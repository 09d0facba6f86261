namespace Kvorum.Raft;

/// <summary>What an <see cref="Entry"/> carries.</summary>
public enum EntryType : byte
{
    /// <summary>An application command (or, with empty data, the leader's no-op of a new term).</summary>
    Normal = 0,

    /// <summary>A single-server membership change; its data is an encoded <see cref="ConfChange"/>.</summary>
    ConfChange = 1,
}

/// <summary>
/// One slot of the replicated log (paper §5.3). A value type so that a log of entries is one array,
/// not one object per entry; only the payload is a separate allocation, owned by the application.
/// </summary>
/// <param name="Index">Position in the log, starting at 1.</param>
/// <param name="Term">Term of the leader that created the entry.</param>
/// <param name="Type">Normal command or membership change.</param>
/// <param name="Data">The payload; empty for a leader's no-op.</param>
public readonly record struct Entry(ulong Index, ulong Term, EntryType Type, ReadOnlyMemory<byte> Data)
{
    /// <summary>Creates a normal entry.</summary>
    public Entry(ulong index, ulong term, ReadOnlyMemory<byte> data)
        : this(index, term, EntryType.Normal, data)
    {
    }

    /// <summary>Approximate size in bytes used for batching and flow control (payload plus a fixed header).</summary>
    public int Size => Data.Length + EntryHeaderSize;

    /// <summary>The fixed per-entry overhead counted by <see cref="Size"/>.</summary>
    public const int EntryHeaderSize = 24;

    /// <inheritdoc />
    public override string ToString() => $"{Term}/{Index}{(Type == EntryType.ConfChange ? " conf" : "")}[{Data.Length}B]";
}
