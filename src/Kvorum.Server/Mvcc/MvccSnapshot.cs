using System.Text;
using Google.Protobuf;
using Kvorum.Etcd.Keys;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// The binary form of a whole <see cref="MvccStore"/>. Keys are written in key order and each
/// key's versions oldest first, so two stores that applied the same requests write the same bytes.
/// </summary>
/// <remarks>
/// Layout, little-endian, counts and lengths as 7-bit encoded integers:
/// <c>"KVMVCC" format(byte=1) revision(i64) compactRevision(i64) keyCount</c>, then per key
/// <c>keyLength key versionCount</c> and per version
/// <c>main(i64) sub(i64) flags(byte: 1 = tombstone)</c> followed, for a put, by
/// <c>createRevision(i64) version(i64) lease(i64) valueLength value</c>; finally <c>"END"</c>.
/// </remarks>
internal static class MvccSnapshot
{
    private const byte FormatVersion = 1;
    private const byte TombstoneFlag = 1;
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("KVMVCC");
    private static readonly byte[] Trailer = Encoding.ASCII.GetBytes("END");

    /// <summary>Keys and values up to this length are read in one piece; longer ones in pieces of this size.</summary>
    private const int WholeReadLimit = 1 << 20;

    /// <summary>Writes <paramref name="store"/> to <paramref name="destination"/>.</summary>
    /// <param name="store">The store.</param>
    /// <param name="destination">Where to write; left open.</param>
    public static void Write(MvccStore store, Stream destination) => Write(FrozenStore.Of(store), destination);

    /// <summary>Writes a frozen store to <paramref name="destination"/>; any thread may do it.</summary>
    /// <param name="store">The store's state, as <see cref="FrozenStore.Of"/> took it.</param>
    /// <param name="destination">Where to write; left open.</param>
    internal static void Write(FrozenStore store, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(destination);
        using var writer = new SnapshotEncoder(destination);
        writer.WriteRaw(Magic);
        writer.WriteByte(FormatVersion);
        writer.WriteInt64(store.Revision);
        writer.WriteInt64(store.CompactRevision);
        writer.Write7BitEncoded(store.Keys.Length);
        for (var k = 0; k < store.Keys.Length; k++)
        {
            writer.WriteBytes(store.Keys[k].Span);
            var versions = store.Versions[k].Span;
            writer.Write7BitEncoded(versions.Length);
            foreach (ref readonly var version in versions)
            {
                writer.WriteInt64(version.Revision.Main);
                writer.WriteInt64(version.Revision.Sub);
                writer.WriteByte(version.IsTombstone ? TombstoneFlag : (byte)0);
                if (version.IsTombstone)
                    continue;
                writer.WriteInt64(version.CreateRevision);
                writer.WriteInt64(version.Version);
                writer.WriteInt64(version.Lease);
                writer.WriteBytes(version.ValueSpan);
            }
        }
        writer.WriteRaw(Trailer);
        writer.Flush();
    }

    /// <summary>Replaces the state of <paramref name="store"/> with the snapshot in <paramref name="source"/>.</summary>
    /// <param name="store">The store to overwrite.</param>
    /// <param name="source">Where to read; left open.</param>
    /// <exception cref="InvalidDataException">The snapshot is malformed; the store is left empty.</exception>
    public static void Read(MvccStore store, Stream source)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(source);
        store.ResetForRestore(1, -1);
        try
        {
            ReadInto(store, source);
        }
        catch (Exception error) when (error is EndOfStreamException or InvalidOperationException or FormatException)
        {
            store.ResetForRestore(1, -1);
            throw new InvalidDataException("The MVCC snapshot is malformed.", error);
        }
        catch (InvalidDataException)
        {
            store.ResetForRestore(1, -1);
            throw;
        }
    }

    private static void ReadInto(MvccStore store, Stream source)
    {
        using var reader = new BinaryReader(source, Encoding.UTF8, leaveOpen: true);
        Expect(reader, Magic);
        var format = reader.ReadByte();
        if (format != FormatVersion)
            throw new InvalidDataException($"Unknown MVCC snapshot format {format}.");
        var revision = reader.ReadInt64();
        var compactRevision = reader.ReadInt64();
        store.ResetForRestore(revision, compactRevision);

        var keyCount = ReadCount(reader);
        ByteString? previousKey = null;
        for (var k = 0; k < keyCount; k++)
        {
            var key = ByteString.CopyFrom(ReadBytes(reader));
            if (key.IsEmpty || (previousKey is not null && ByteKeyComparer.Instance.Compare(previousKey, key) >= 0))
                throw new InvalidDataException("MVCC snapshot keys are not in strictly increasing order.");
            previousKey = key;

            var history = store.Index.GetOrAdd(key);
            var versionCount = ReadCount(reader);
            if (versionCount == 0)
                throw new InvalidDataException("MVCC snapshot has a key without versions.");
            for (var v = 0; v < versionCount; v++)
                history.Append(ReadVersion(reader, revision));
            if (history.Live is { } live)
                store.Leases.Attach(live.Lease, key);
        }
        Expect(reader, Trailer);
    }

    private static KeyVersion ReadVersion(BinaryReader reader, long storeRevision)
    {
        var revision = new Revision(reader.ReadInt64(), reader.ReadInt64());
        if (revision.Main < 2 || revision.Main > storeRevision || revision.Sub < 0)
            throw new InvalidDataException($"MVCC snapshot has an impossible revision {revision}.");
        var flags = reader.ReadByte();
        if (flags == TombstoneFlag)
            return KeyVersion.Tombstone(revision);
        if (flags != 0)
            throw new InvalidDataException($"MVCC snapshot has unknown version flags {flags}.");
        var createRevision = reader.ReadInt64();
        var version = reader.ReadInt64();
        var lease = reader.ReadInt64();
        var value = ByteString.CopyFrom(ReadBytes(reader));
        return new KeyVersion(revision, createRevision, version, value, lease, isTombstone: false);
    }

    private static byte[] ReadBytes(BinaryReader reader)
    {
        var length = ReadCount(reader);
        if (length <= WholeReadLimit)
            return ReadExactly(reader, length);
        // A length is only a claim until its bytes have arrived: read a long value in pieces, so that a damaged or
        // hostile snapshot costs memory for the bytes it holds, not for the length it states.
        using var value = new MemoryStream();
        for (var left = length; left > 0; left -= WholeReadLimit)
            value.Write(ReadExactly(reader, Math.Min(left, WholeReadLimit)));
        return value.ToArray();
    }

    private static byte[] ReadExactly(BinaryReader reader, int length)
    {
        var bytes = reader.ReadBytes(length);
        if (bytes.Length != length)
            throw new EndOfStreamException();
        return bytes;
    }

    private static int ReadCount(BinaryReader reader)
    {
        var count = reader.Read7BitEncodedInt();
        if (count < 0)
            throw new InvalidDataException("MVCC snapshot has a negative length.");
        return count;
    }

    private static void Expect(BinaryReader reader, byte[] expected)
    {
        var actual = reader.ReadBytes(expected.Length);
        if (!actual.AsSpan().SequenceEqual(expected))
            throw new InvalidDataException("MVCC snapshot is missing its magic bytes or trailer.");
    }
}
