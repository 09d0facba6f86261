using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Node;

/// <summary>The log position a state-machine snapshot was taken at: its last applied entry.</summary>
/// <param name="Index">The entry's index; 0 when not recorded (snapshots written before it was).</param>
/// <param name="Term">The entry's term.</param>
internal readonly record struct AppliedPosition(ulong Index, ulong Term)
{
    /// <summary>True when the snapshot recorded no position.</summary>
    public bool IsUnknown => Index == 0 && Term == 0;
}

/// <summary>What a snapshot holds besides the MVCC store.</summary>
/// <param name="Members">The member table.</param>
/// <param name="Position">Where in the log the state was taken.</param>
internal sealed record NodeSnapshotHeader(IReadOnlyList<Member> Members, AppliedPosition Position)
{
    /// <summary>The lease table (none in snapshots written before leases existed).</summary>
    public IReadOnlyList<LeaseRecord> Leases { get; init; } = [];

    /// <summary>Users, roles and the auth flag and revision (null in snapshots written before auth existed).</summary>
    public AuthState? Auth { get; init; }
}

/// <summary>
/// The bytes of a member's state-machine snapshot, streamed: <c>"KVNS" format(1)</c>, the length-delimited
/// <see cref="NodeSnapshot"/> header (member table, cluster id, applied position, lease table and auth state), then the MVCC store
/// (<see cref="MvccSnapshot"/>). Reading also accepts the older form, one whole <see cref="NodeSnapshot"/>.
/// </summary>
internal static class NodeSnapshotFormat
{
    private const byte FormatVersion = 1;
    private static readonly byte[] Magic = "KVNS"u8.ToArray();

    /// <summary>
    /// Writes a snapshot of <paramref name="mvcc"/>, <paramref name="members"/> and <paramref name="leases"/>, taken at
    /// <paramref name="position"/>, to <paramref name="destination"/>.
    /// </summary>
    public static void Write(Stream destination, FrozenStore mvcc, IEnumerable<Member> members, ulong clusterId, AppliedPosition position,
        IEnumerable<LeaseRecord>? leases = null, AuthState? auth = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Write(Magic);
        destination.WriteByte(FormatVersion);
        var header = new NodeSnapshot { ClusterId = clusterId, AppliedIndex = position.Index, AppliedTerm = position.Term };
        header.Members.AddRange(members);
        if (leases is not null)
            header.Leases.AddRange(leases);
        header.Auth = auth;
        header.WriteDelimitedTo(destination);
        MvccSnapshot.Write(mvcc, destination);
    }

    /// <summary>Reads a snapshot: fills <paramref name="mvcc"/> and returns the member table and position.</summary>
    /// <exception cref="InvalidDataException">The snapshot is malformed.</exception>
    public static NodeSnapshotHeader Read(Stream source, MvccStore mvcc)
    {
        ArgumentNullException.ThrowIfNull(source);
        Span<byte> start = stackalloc byte[5];
        var got = source.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        if (got == start.Length && start[..4].SequenceEqual(Magic))
        {
            if (start[4] != FormatVersion)
                throw new InvalidDataException($"unknown snapshot format {start[4]}");
            var header = NodeSnapshot.Parser.ParseDelimitedFrom(source);
            mvcc.RestoreSnapshot(source);
            return HeaderOf(header);
        }

        // The older form: one NodeSnapshot holding the MVCC bytes.
        using var whole = new MemoryStream();
        whole.Write(start[..got]);
        source.CopyTo(whole);
        var snapshot = NodeSnapshot.Parser.ParseFrom(whole.GetBuffer().AsSpan(0, (int)whole.Length));
        mvcc.RestoreSnapshot(snapshot.Mvcc.ToByteArray());
        return HeaderOf(snapshot);
    }

    /// <summary>
    /// Reads the applied position from the first bytes of a snapshot (<paramref name="prefix"/>), without the rest:
    /// what a follower checks before it installs a snapshot it was sent. False when the prefix does not hold the
    /// whole header yet. A snapshot of the older form records no position (<see cref="AppliedPosition.IsUnknown"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">The header is malformed, or of an unknown format.</exception>
    public static bool TryReadPosition(ReadOnlySpan<byte> prefix, out AppliedPosition position)
    {
        position = default;
        if (prefix.Length < Magic.Length + 1)
            return false;
        if (!prefix[..Magic.Length].SequenceEqual(Magic))
            return true; // the older form, with no position in it
        if (prefix[Magic.Length] != FormatVersion)
            throw new InvalidDataException($"unknown snapshot format {prefix[Magic.Length]}");
        // The header's length as a varint, then the header; a parser reading a stream that is cut short would take
        // what is there for the whole message, so the length is checked here.
        var rest = prefix[(Magic.Length + 1)..];
        ulong length = 0;
        var at = 0;
        for (var shift = 0; ; shift += 7)
        {
            if (at == rest.Length)
                return false;
            if (shift > 28)
                throw new InvalidDataException("the snapshot header's length is malformed");
            var b = rest[at++];
            length |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
                break;
        }
        if ((ulong)(rest.Length - at) < length)
            return false;
        NodeSnapshot header;
        try
        {
            header = NodeSnapshot.Parser.ParseFrom(rest.Slice(at, (int)length));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"the snapshot header is malformed: {e.Message}", e);
        }
        position = new AppliedPosition(header.AppliedIndex, header.AppliedTerm);
        return true;
    }

    /// <summary>
    /// Refuses a snapshot whose recorded position is not <paramref name="expected"/> (the Raft metadata it came
    /// with). A snapshot that recorded none predates the field and is taken on trust.
    /// </summary>
    /// <exception cref="InvalidDataException">The positions differ.</exception>
    public static void CheckPosition(AppliedPosition recorded, AppliedPosition expected, string what)
    {
        if (!recorded.IsUnknown && recorded != expected)
        {
            throw new InvalidDataException(
                $"{what} holds the state at index {recorded.Index} (term {recorded.Term}) but is labelled index {expected.Index} (term {expected.Term}): refusing it, since the entries after the label would be applied on top of a different state");
        }
    }

    private static NodeSnapshotHeader HeaderOf(NodeSnapshot header) =>
        new(header.Members, new AppliedPosition(header.AppliedIndex, header.AppliedTerm)) { Leases = header.Leases, Auth = header.Auth };

    /// <summary>Reads only the header (member table and cluster id), without the MVCC store after it; an older-form snapshot is read whole.</summary>
    /// <exception cref="InvalidDataException">The snapshot is malformed.</exception>
    public static NodeSnapshot ReadHeader(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Span<byte> start = stackalloc byte[5];
        var got = source.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        if (got == start.Length && start[..4].SequenceEqual(Magic))
        {
            return start[4] == FormatVersion
                ? NodeSnapshot.Parser.ParseDelimitedFrom(source)
                : throw new InvalidDataException($"unknown snapshot format {start[4]}");
        }
        using var whole = new MemoryStream();
        whole.Write(start[..got]);
        source.CopyTo(whole);
        return NodeSnapshot.Parser.ParseFrom(whole.GetBuffer().AsSpan(0, (int)whole.Length));
    }
}
