namespace Kvorum.Lab.Scenarios;

/// <summary>
/// A storage service outside etcd that takes fencing tokens, as the <c>lock-under-partition</c> scenario simulates
/// it: a write carries the writer's token, and the store refuses one whose token is below the highest it has
/// accepted. etcd cannot compare anything outside itself, so a resource elsewhere must make this check itself.
/// </summary>
internal sealed class TokenCheckingStore
{
    private readonly Lock _gate = new();
    private long _highestToken;

    /// <summary>The value last accepted, null before any.</summary>
    public string? Value { get; private set; }

    /// <summary>Writes <paramref name="value"/> unless a write with a higher token came first.</summary>
    /// <param name="token">The writer's fencing token.</param>
    /// <param name="value">What to write.</param>
    /// <returns>True when the write was accepted.</returns>
    public bool TryWrite(long token, string value)
    {
        lock (_gate)
        {
            if (token < _highestToken)
                return false;
            _highestToken = token;
            Value = value;
            return true;
        }
    }
}
