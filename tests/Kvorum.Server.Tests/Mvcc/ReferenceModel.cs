using System.Collections.Immutable;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>One key's state in the <see cref="ReferenceModel"/>.</summary>
internal sealed record ModelKv(string Value, long Create, long Mod, long Version, long Lease);

/// <summary>
/// The simplest store that could work: a full copy of the key space for every revision, with
/// string keys (ASCII only, so ordinal order is byte order). The randomized test checks
/// <see cref="Kvorum.Server.Mvcc.MvccStore"/> against it.
/// </summary>
internal sealed class ReferenceModel
{
    private readonly List<ImmutableSortedDictionary<string, ModelKv>> _states;

    public ReferenceModel()
    {
        var empty = ImmutableSortedDictionary.Create<string, ModelKv>(StringComparer.Ordinal);
        _states = [empty, empty];  // revisions 0 and 1 are both empty
    }

    public long Revision => _states.Count - 1;

    public long CompactRevision { get; set; } = -1;

    public ImmutableSortedDictionary<string, ModelKv> Current => _states[^1];

    public ImmutableSortedDictionary<string, ModelKv> At(long revision) => _states[(int)revision];

    /// <summary>Applies a batch of changes as one revision; null values delete. No change, no revision.</summary>
    public void Commit(IReadOnlyList<(string Key, string? Value, long Lease)> changes)
    {
        if (changes.Count == 0)
            return;
        var revision = Revision + 1;
        var next = Current.ToBuilder();
        foreach ((var key, var value, var lease) in changes)
        {
            if (value is null)
            {
                next.Remove(key);
                continue;
            }
            next[key] = next.TryGetValue(key, out var previous)
                ? new ModelKv(value, previous.Create, revision, previous.Version + 1, lease)
                : new ModelKv(value, revision, revision, 1, lease);
        }
        _states.Add(next.ToImmutable());
    }

    /// <summary>Keys of <paramref name="state"/> in etcd's range [key, end): "" end = the key alone, "\0" = to the end.</summary>
    public static IEnumerable<KeyValuePair<string, ModelKv>> InRange(ImmutableSortedDictionary<string, ModelKv> state, string key, string end) =>
        state.Where(pair => end switch
        {
            "" => pair.Key == key,
            "\0" => string.CompareOrdinal(pair.Key, key) >= 0,
            _ => string.CompareOrdinal(pair.Key, key) >= 0 && string.CompareOrdinal(pair.Key, end) < 0,
        });
}
