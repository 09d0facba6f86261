using Google.Protobuf;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// A store's state at one moment, copied by reference: every key and every version (both immutable) in key
/// order. Taking it is a pass over the index on the apply thread (a few milliseconds for a million versions);
/// writing it out as a snapshot can then run on another thread while the store keeps changing.
/// </summary>
internal sealed class FrozenStore
{
    private FrozenStore(long revision, long compactRevision, ByteString[] keys, int[] versionCounts, KeyVersion[] versions)
    {
        Revision = revision;
        CompactRevision = compactRevision;
        Keys = keys;
        VersionCounts = versionCounts;
        Versions = versions;
    }

    /// <summary>The store's revision.</summary>
    public long Revision { get; }

    /// <summary>The store's compaction revision.</summary>
    public long CompactRevision { get; }

    /// <summary>The keys in key order.</summary>
    public ByteString[] Keys { get; }

    /// <summary>How many of <see cref="Versions"/> belong to each key, in the order of <see cref="Keys"/>.</summary>
    public int[] VersionCounts { get; }

    /// <summary>Every key's versions, oldest first, the keys one after another.</summary>
    public KeyVersion[] Versions { get; }

    /// <summary>Copies the references that make up <paramref name="store"/>'s state. Call it on the thread that owns the store.</summary>
    public static FrozenStore Of(MvccStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var keys = new ByteString[store.Index.Count];
        var counts = new int[keys.Length];
        var total = 0;
        var k = 0;
        foreach (KeyHistory history in store.Index.All())
        {
            keys[k] = history.Key;
            counts[k++] = history.Versions.Length;
            total += history.Versions.Length;
        }
        var versions = new KeyVersion[total];
        var at = 0;
        foreach (KeyHistory history in store.Index.All())
        {
            ReadOnlySpan<KeyVersion> own = history.Versions;
            own.CopyTo(versions.AsSpan(at));
            at += own.Length;
        }
        return new FrozenStore(store.Revision, store.CompactRevision, keys, counts, versions);
    }
}
