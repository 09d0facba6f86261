using Google.Protobuf;
using Kvorum.Server.Etcd;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Node;

/// <summary>
/// The bytes of a member's state-machine snapshot, streamed: <c>"KVNS" format(1)</c>, the length-delimited
/// <see cref="NodeSnapshot"/> header (member table and cluster id), then the MVCC store
/// (<see cref="MvccSnapshot"/>). Reading also accepts the older form, one whole <see cref="NodeSnapshot"/>.
/// </summary>
internal static class NodeSnapshotFormat
{
    private const byte FormatVersion = 1;
    private static readonly byte[] Magic = "KVNS"u8.ToArray();

    /// <summary>Writes a snapshot of <paramref name="mvcc"/> and <paramref name="members"/> to <paramref name="destination"/>.</summary>
    public static void Write(Stream destination, FrozenStore mvcc, IEnumerable<Member> members, ulong clusterId)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Write(Magic);
        destination.WriteByte(FormatVersion);
        var header = new NodeSnapshot { ClusterId = clusterId };
        header.Members.AddRange(members);
        header.WriteDelimitedTo(destination);
        MvccSnapshot.Write(mvcc, destination);
    }

    /// <summary>Reads a snapshot: fills <paramref name="mvcc"/> and returns the member table.</summary>
    /// <exception cref="InvalidDataException">The snapshot is malformed.</exception>
    public static IReadOnlyList<Member> Read(Stream source, MvccStore mvcc)
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
            return header.Members;
        }

        // The older form: one NodeSnapshot holding the MVCC bytes.
        using var whole = new MemoryStream();
        whole.Write(start[..got]);
        source.CopyTo(whole);
        var snapshot = NodeSnapshot.Parser.ParseFrom(whole.GetBuffer().AsSpan(0, (int)whole.Length));
        mvcc.RestoreSnapshot(snapshot.Mvcc.ToByteArray());
        return snapshot.Members;
    }

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
