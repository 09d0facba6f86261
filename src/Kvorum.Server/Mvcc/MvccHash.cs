using System.Buffers.Binary;
using System.IO.Hashing;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// A CRC-32 over the store's kept history up to a revision, for comparing members (etcd's
/// HashKV). Two stores that applied the same requests and compactions give the same hash at the
/// same revision. The value is Kvorum's own: it is not comparable with etcd's.
/// </summary>
/// <remarks>Hashed, in key order: the compaction revision, then for each key with versions at or
/// before the revision its length and bytes, and each such version's revision, tombstone flag,
/// create revision, version, lease and value.</remarks>
internal static class MvccHash
{
    /// <summary>Hashes <paramref name="state"/> up to <paramref name="revision"/>, as Maintenance.HashKV answers.</summary>
    /// <param name="state">The store's state, as <see cref="FrozenStore.Of"/> took it.</param>
    /// <param name="revision">The revision hashed up to, already checked against the store's revisions.</param>
    public static HashKVResponse Respond(FrozenStore state, long revision) => new()
    {
        Header = new ResponseHeader { Revision = state.Revision },
        Hash = Compute(state, revision),
        CompactRevision = state.CompactRevision,
        HashRevision = revision,
    };

    /// <summary>The hash of <paramref name="state"/>'s kept history up to <paramref name="revision"/>.</summary>
    public static uint Compute(FrozenStore state, long revision)
    {
        var crc = new Crc32();
        Span<byte> number = stackalloc byte[8];
        AppendInt64(crc, number, state.CompactRevision);
        for (var k = 0; k < state.Keys.Length; k++)
        {
            var versions = state.Versions[k].Span;
            if (versions.Length == 0 || versions[0].Revision.Main > revision)
                continue;
            AppendInt64(crc, number, state.Keys[k].Length);
            crc.Append(state.Keys[k].Span);
            foreach (var version in versions)
            {
                if (version.Revision.Main > revision)
                    break;
                AppendInt64(crc, number, version.Revision.Main);
                AppendInt64(crc, number, version.Revision.Sub);
                AppendInt64(crc, number, version.IsTombstone ? 1 : 0);
                AppendInt64(crc, number, version.CreateRevision);
                AppendInt64(crc, number, version.Version);
                AppendInt64(crc, number, version.Lease);
                AppendInt64(crc, number, version.ValueLength);
                crc.Append(version.ValueSpan);
            }
        }
        return crc.GetCurrentHashAsUInt32();
    }

    private static void AppendInt64(Crc32 crc, Span<byte> buffer, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
        crc.Append(buffer);
    }
}
