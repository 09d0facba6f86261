using Google.Protobuf;
using Kvorum.Etcd.Keys;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// Which live keys are attached to each lease, so that revoking or expiring a lease can delete
/// its keys. Derived from the store's newest values; rebuilt on snapshot restore.
/// </summary>
internal sealed class LeaseAttachments
{
    private readonly Dictionary<long, SortedSet<ByteString>> _keysByLease = [];

    /// <summary>Number of leases with at least one key.</summary>
    public int LeaseCount => _keysByLease.Count;

    /// <summary>Records that <paramref name="key"/> is attached to <paramref name="lease"/>; lease 0 is ignored.</summary>
    /// <param name="lease">The lease id.</param>
    /// <param name="key">The key.</param>
    internal void Attach(long lease, ByteString key)
    {
        if (lease == 0)
            return;
        if (!_keysByLease.TryGetValue(lease, out var keys))
        {
            keys = new SortedSet<ByteString>(ByteKeyComparer.Instance);
            _keysByLease.Add(lease, keys);
        }
        keys.Add(key);
    }

    /// <summary>Records that <paramref name="key"/> is no longer attached to <paramref name="lease"/>; lease 0 is ignored.</summary>
    /// <param name="lease">The lease id.</param>
    /// <param name="key">The key.</param>
    internal void Detach(long lease, ByteString key)
    {
        if (lease == 0 || !_keysByLease.TryGetValue(lease, out var keys))
            return;
        keys.Remove(key);
        if (keys.Count == 0)
            _keysByLease.Remove(lease);
    }

    /// <summary>The keys attached to <paramref name="lease"/>, in key order.</summary>
    /// <param name="lease">The lease id.</param>
    /// <returns>A copy of the keys; empty when none.</returns>
    public IReadOnlyList<ByteString> KeysOf(long lease) =>
        _keysByLease.TryGetValue(lease, out var keys) ? [.. keys] : [];

    /// <summary>Forgets every attachment.</summary>
    internal void Clear() => _keysByLease.Clear();
}
