using Google.Protobuf;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// A store's state at one moment: every key, and every key's versions as its history shares them
/// (<see cref="KeyHistory.Share"/>), in key order. Taking it is a pass over the index on the apply thread that copies
/// no version; writing it out as a snapshot can then run on another thread while the store keeps changing.
/// </summary>
internal sealed class FrozenStore
{
    private FrozenStore(long revision, long compactRevision, ByteString[] keys, ReadOnlyMemory<KeyVersion>[] versions)
    {
        Revision = revision;
        CompactRevision = compactRevision;
        Keys = keys;
        Versions = versions;
    }

    /// <summary>The store's revision.</summary>
    public long Revision { get; }

    /// <summary>The store's compaction revision.</summary>
    public long CompactRevision { get; }

    /// <summary>The keys in key order.</summary>
    public ByteString[] Keys { get; }

    /// <summary>Each key's versions, oldest first, in the order of <see cref="Keys"/>.</summary>
    public ReadOnlyMemory<KeyVersion>[] Versions { get; }

    /// <summary>Takes <paramref name="store"/>'s state. Call it on the thread that owns the store.</summary>
    public static FrozenStore Of(MvccStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var keys = new ByteString[store.Index.Count];
        var versions = new ReadOnlyMemory<KeyVersion>[keys.Length];
        var k = 0;
        foreach (var history in store.Index.All())
        {
            keys[k] = history.Key;
            versions[k++] = history.Share();
        }
        return new FrozenStore(store.Revision, store.CompactRevision, keys, versions);
    }
}
