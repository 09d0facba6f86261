namespace Kvorum.Lab.Checking;

/// <summary>
/// The set of operations (by index within one partition) linearized so far on the current search path:
/// a bitset with an incrementally maintained Zobrist hash, so that adding or removing one operation and
/// hashing the set are O(1).
/// Invariant: <see cref="Hash"/> is the XOR of <see cref="KeyOf"/> over the members.
/// </summary>
internal sealed class LinearizedSet
{
    private readonly ulong[] _words;

    /// <summary>Creates an empty set able to hold indexes 0 .. <paramref name="capacity"/> - 1.</summary>
    public LinearizedSet(int capacity) => _words = new ulong[(capacity + 63) >> 6];

    /// <summary>The Zobrist hash of the members.</summary>
    public ulong Hash { get; private set; }

    /// <summary>The bits; read only, for snapshots and comparisons.</summary>
    public ReadOnlySpan<ulong> Words => _words;

    /// <summary>Adds <paramref name="index"/>, which must not be a member.</summary>
    public void Add(int index)
    {
        _words[index >> 6] |= 1UL << index;
        Hash ^= KeyOf(index);
    }

    /// <summary>Removes <paramref name="index"/>, which must be a member.</summary>
    public void Remove(int index)
    {
        _words[index >> 6] &= ~(1UL << index);
        Hash ^= KeyOf(index);
    }

    /// <summary>The random-looking 64-bit key of one member (SplitMix64 of its index): fixed, so runs repeat.</summary>
    public static ulong KeyOf(int index)
    {
        var z = (ulong)index * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
