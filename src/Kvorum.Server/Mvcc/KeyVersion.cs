using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// One immutable entry in a key's history: either a value written by a put, or a tombstone
/// written by a delete.
/// </summary>
/// <remarks>
/// A struct, held inline in the key's history, and its value held as a view of bytes rather than as a
/// <see cref="ByteString"/>: a put then stores into the history's (long-lived) array only a reference to the entry's
/// payload array, which lives on the pinned heap (see <c>Node/EntryPayloads.cs</c>) and so is never young. A
/// collection of the young generation scans every old object that was given a reference to a young one since the
/// previous collection, and one version object per put, scattered over the whole store, made every young collection
/// slow however little it promoted (figures in <c>docs/mvcc.md</c>).
/// </remarks>
internal readonly struct KeyVersion
{
    private readonly ReadOnlyMemory<byte> _value;

    /// <summary>Creates an entry.</summary>
    /// <param name="revision">When the change happened.</param>
    /// <param name="createRevision">Main revision of the put that (re)created the key; 0 for a tombstone.</param>
    /// <param name="version">Puts since creation, from 1; 0 for a tombstone.</param>
    /// <param name="value">The value; empty for a tombstone. Its bytes are shared, not copied, and must not change.</param>
    /// <param name="lease">Attached lease, 0 for none.</param>
    /// <param name="isTombstone">True for a delete.</param>
    public KeyVersion(Revision revision, long createRevision, long version, ByteString value, long lease, bool isTombstone)
    {
        ArgumentNullException.ThrowIfNull(value);
        Revision = revision;
        CreateRevision = createRevision;
        Version = version;
        _value = value.Memory;
        Lease = lease;
        IsTombstone = isTombstone;
    }

    /// <summary>When the change happened; its main part is the key's mod_revision.</summary>
    public Revision Revision { get; }

    /// <summary>Main revision of the put that (re)created the key; 0 for a tombstone.</summary>
    public long CreateRevision { get; }

    /// <summary>Puts since creation, from 1; 0 for a tombstone.</summary>
    public long Version { get; }

    /// <summary>The value; empty for a tombstone. A new wrapper over the same bytes on each call.</summary>
    public ByteString Value => _value.IsEmpty ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(_value);

    /// <summary>The value's bytes.</summary>
    public ReadOnlySpan<byte> ValueSpan => _value.Span;

    /// <summary>The value's length in bytes.</summary>
    public int ValueLength => _value.Length;

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
