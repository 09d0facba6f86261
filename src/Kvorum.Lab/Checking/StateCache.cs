namespace Kvorum.Lab.Checking;

/// <summary>
/// The configurations the search has already reached: (linearized set, model state) pairs. Reaching one
/// again by another order of the same operations leads to exactly the same future, so the search prunes it
/// (Lowe 2017, the memoisation Porcupine also uses). This is what makes the search practical.
/// </summary>
internal sealed class StateCache<TState>
{
    private readonly HashSet<Configuration> _seen;
    private readonly IEqualityComparer<TState> _states;

    public StateCache(IEqualityComparer<TState> states)
    {
        _states = states;
        _seen = new HashSet<Configuration>(new ConfigurationComparer(states));
    }

    /// <summary>The number of configurations remembered.</summary>
    public int Count => _seen.Count;

    /// <summary>
    /// Remembers (<paramref name="set"/>, <paramref name="state"/>) and returns true if it is new; the set
    /// is copied only then.
    /// </summary>
    public bool Add(LinearizedSet set, TState state)
    {
        var hash = set.Hash ^ ((ulong)(uint)_states.GetHashCode(state!) * 0xD6E8FEB86659FD93UL);
        var probe = new Configuration(hash, null, set, state);
        if (_seen.Contains(probe))
            return false;
        _seen.Add(new Configuration(hash, set.Words.ToArray(), null, state));
        return true;
    }

    /// <summary>
    /// A remembered configuration (<see cref="Words"/> set) or a probe that borrows the live set
    /// (<see cref="Live"/> set). Invariant: exactly one of the two is non-null.
    /// </summary>
    private readonly record struct Configuration(ulong Hash, ulong[]? Words, LinearizedSet? Live, TState State)
    {
        public ReadOnlySpan<ulong> Bits => Words ?? Live!.Words;
    }

    private sealed class ConfigurationComparer(IEqualityComparer<TState> states) : IEqualityComparer<Configuration>
    {
        public bool Equals(Configuration x, Configuration y) =>
            x.Hash == y.Hash && states.Equals(x.State, y.State) && x.Bits.SequenceEqual(y.Bits);

        public int GetHashCode(Configuration c) => (int)(c.Hash ^ (c.Hash >> 32));
    }
}
