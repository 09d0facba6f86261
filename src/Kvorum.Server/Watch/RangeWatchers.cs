using System.Diagnostics.CodeAnalysis;
using Google.Protobuf;
using Kvorum.Etcd.Keys;

namespace Kvorum.Server.Watch;

/// <summary>
/// The synced watchers of ranges (not single keys), indexed so that an event's key finds the ones it falls in without
/// a look at each: watchers of the same range form one group, checked once however many they are; groups of a
/// prefix's range (what clients watch almost always) are found by looking up the key's prefixes, one per prefix length
/// in use; only the other ranges (from a key on, or between two keys) are checked one group at a time. etcd keeps an
/// interval tree for this; prefixes need less.
/// </summary>
/// <remarks>Owned by the member loop, as its <see cref="WatcherRegistry"/>.</remarks>
internal sealed class RangeWatchers
{
    private readonly Dictionary<(ByteString Begin, ByteString? End, bool Unbounded), HashSet<Watcher>> _byRange = [];
    private readonly Dictionary<ByteString, HashSet<Watcher>> _byPrefix = new(PrefixComparer.Instance);
    private readonly Dictionary<ByteString, HashSet<Watcher>>.AlternateLookup<ReadOnlySpan<byte>> _byPrefixSpan;

    // The prefix lengths in use, ascending, each with how many prefix groups have it.
    private readonly SortedList<int, int> _prefixLengths = [];
    private readonly List<(KeyRange Range, HashSet<Watcher> Watchers)> _others = [];

    /// <summary>An empty index.</summary>
    public RangeWatchers() => _byPrefixSpan = _byPrefix.GetAlternateLookup<ReadOnlySpan<byte>>();

    /// <summary>Watchers held.</summary>
    public int Count { get; private set; }

    /// <summary>Every watcher held, group by group.</summary>
    public IEnumerable<Watcher> All => _byRange.Values.SelectMany(g => g);

    /// <summary>Adds <paramref name="watcher"/>, whose range is not a single key.</summary>
    public void Add(Watcher watcher)
    {
        ArgumentNullException.ThrowIfNull(watcher);
        var range = watcher.Range;
        var key = (range.Begin, range.End, range.IsUnbounded);
        if (!_byRange.TryGetValue(key, out var group))
        {
            _byRange.Add(key, group = []);
            if (IsPrefix(range, out var prefix))
            {
                _byPrefix.Add(prefix, group);
                _prefixLengths[prefix.Length] = _prefixLengths.GetValueOrDefault(prefix.Length) + 1;
            }
            else
            {
                _others.Add((range, group));
            }
        }
        if (group.Add(watcher))
            Count++;
    }

    /// <summary>Removes <paramref name="watcher"/>; nothing when it is not held.</summary>
    public void Remove(Watcher watcher)
    {
        ArgumentNullException.ThrowIfNull(watcher);
        var range = watcher.Range;
        var key = (range.Begin, range.End, range.IsUnbounded);
        if (!_byRange.TryGetValue(key, out var group) || !group.Remove(watcher))
            return;
        Count--;
        if (group.Count > 0)
            return;
        _byRange.Remove(key);
        if (IsPrefix(range, out var prefix))
        {
            _byPrefix.Remove(prefix);
            var left = _prefixLengths[prefix.Length] - 1;
            if (left == 0)
                _prefixLengths.Remove(prefix.Length);
            else
                _prefixLengths[prefix.Length] = left;
        }
        else
        {
            _others.RemoveAt(_others.FindIndex(o => ReferenceEquals(o.Watchers, group)));
        }
    }

    /// <summary>Adds to <paramref name="groups"/> the group of every range held that contains <paramref name="key"/>.</summary>
    public void Containing(ReadOnlySpan<byte> key, List<HashSet<Watcher>> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        foreach (var length in _prefixLengths.Keys)
        {
            if (length > key.Length)
                break;
            if (_byPrefixSpan.TryGetValue(key[..length], out var group))
                groups.Add(group);
        }
        foreach (var (range, group) in _others)
        {
            if (range.Contains(key))
                groups.Add(group);
        }
    }

    /// <summary>True when <paramref name="range"/> is every key starting with a non-empty <paramref name="prefix"/>.</summary>
    private static bool IsPrefix(KeyRange range, [NotNullWhen(true)] out ByteString? prefix)
    {
        prefix = null;
        if (range.IsSingleKey || range.IsUnbounded || range.End is not { } end || range.Begin.IsEmpty || end != KeyRange.PrefixEnd(range.Begin))
            return false;
        prefix = range.Begin;
        return true;
    }

    /// <summary>Byte-wise equality of keys, also against a span, so that a key's prefixes are looked up without a copy.</summary>
    private sealed class PrefixComparer : IEqualityComparer<ByteString>, IAlternateEqualityComparer<ReadOnlySpan<byte>, ByteString>
    {
        public static readonly PrefixComparer Instance = new();

        public bool Equals(ByteString? x, ByteString? y) => x is null ? y is null : y is not null && x.Span.SequenceEqual(y.Span);

        public int GetHashCode(ByteString obj) => GetHashCode(obj.Span);

        public bool Equals(ReadOnlySpan<byte> alternate, ByteString other) => alternate.SequenceEqual(other.Span);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = default(HashCode);
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public ByteString Create(ReadOnlySpan<byte> alternate) => ByteString.CopyFrom(alternate);
    }
}
