using Google.Protobuf;
using Kvorum.Server.Etcd;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// One immutable entry in a key's history: either a value written by a put, or a tombstone
/// written by a delete.
/// </summary>
internal sealed class KeyVersion
{
    /// <summary>Creates an entry.</summary>
    /// <param name="revision">When the change happened.</param>
    /// <param name="createRevision">Main revision of the put that (re)created the key; 0 for a tombstone.</param>
    /// <param name="version">Puts since creation, from 1; 0 for a tombstone.</param>
    /// <param name="value">The value; empty for a tombstone.</param>
    /// <param name="lease">Attached lease, 0 for none.</param>
    /// <param name="isTombstone">True for a delete.</param>
    public KeyVersion(Revision revision, long createRevision, long version, ByteString value, long lease, bool isTombstone)
    {
        ArgumentNullException.ThrowIfNull(value);
        Revision = revision;
        CreateRevision = createRevision;
        Version = version;
        Value = value;
        Lease = lease;
        IsTombstone = isTombstone;
    }

    /// <summary>When the change happened; its main part is the key's mod_revision.</summary>
    public Revision Revision { get; }

    /// <summary>Main revision of the put that (re)created the key; 0 for a tombstone.</summary>
    public long CreateRevision { get; }

    /// <summary>Puts since creation, from 1; 0 for a tombstone.</summary>
    public long Version { get; }

    /// <summary>The value; empty for a tombstone.</summary>
    public ByteString Value { get; }

    /// <summary>Attached lease, 0 for none.</summary>
    public long Lease { get; }

    /// <summary>True when this entry records a delete.</summary>
    public bool IsTombstone { get; }

    /// <summary>A tombstone written at <paramref name="revision"/>.</summary>
    /// <param name="revision">The delete's revision.</param>
    /// <returns>The tombstone entry.</returns>
    public static KeyVersion Tombstone(Revision revision) => new(revision, 0, 0, ByteString.Empty, 0, isTombstone: true);

    /// <summary>The entry as the wire's <see cref="KeyValue"/>.</summary>
    /// <param name="key">The key the entry belongs to.</param>
    /// <param name="keysOnly">Leave the value out.</param>
    /// <returns>A new message; key and value bytes are shared, not copied.</returns>
    public KeyValue ToKeyValue(ByteString key, bool keysOnly = false) => new()
    {
        Key = key,
        CreateRevision = CreateRevision,
        ModRevision = Revision.Main,
        Version = Version,
        Value = keysOnly ? ByteString.Empty : Value,
        Lease = Lease,
    };
}
