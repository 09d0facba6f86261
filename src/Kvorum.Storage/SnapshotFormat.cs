using System.Buffers.Binary;
using Kvorum.Raft;

namespace Kvorum.Storage;

/// <summary>
/// Layout of a snapshot file, little-endian:
/// <code>
/// header:  "KVSNAP01" | u32 header length H | u64 index | u64 term | u64 file id | configuration
/// data:    the snapshot's bytes, [H, H + N)
/// trailer: u64 N | u32 CRC-32C of every byte before it
/// </code>
/// The data length is in the trailer so that a received snapshot can be written as it streams in.
/// </summary>
internal static class SnapshotFormat
{
    /// <summary>Size of the trailer.</summary>
    public const int TrailerSize = 12;

    private static ReadOnlySpan<byte> Magic => "KVSNAP01"u8;

    /// <summary>The header bytes for <paramref name="snapshot"/>.</summary>
    public static byte[] EncodeHeader(SnapshotRef snapshot)
    {
        var w = new PayloadBuilder();
        w.U64(snapshot.Index);
        w.U64(snapshot.Metadata.Term);
        w.U64(snapshot.FileId);
        PayloadCodec.WriteConf(ref w, snapshot.Metadata.ConfState);
        var body = w.ToArray();
        var header = new byte[Magic.Length + 4 + body.Length];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(Magic.Length), (uint)header.Length);
        body.CopyTo(header.AsSpan(Magic.Length + 4));
        return header;
    }

    /// <summary>Reads a header from the start of a file; returns the snapshot and the header length.</summary>
    /// <exception cref="FormatException">Not a snapshot header.</exception>
    public static (SnapshotRef Snapshot, int HeaderLength) DecodeHeader(ReadOnlySpan<byte> start)
    {
        if (start.Length < Magic.Length + 4 || !start[..Magic.Length].SequenceEqual(Magic))
            throw new FormatException("not a snapshot file (bad magic)");
        var length = BinaryPrimitives.ReadUInt32LittleEndian(start[Magic.Length..]);
        if (length > start.Length || length < Magic.Length + 4)
            throw new FormatException($"bad header length {length}");
        var r = new PayloadParser(start[(Magic.Length + 4)..(int)length]);
        var index = r.U64();
        var term = r.U64();
        var fileId = r.U64();
        var conf = PayloadCodec.ReadConf(ref r);
        r.End();
        return (new SnapshotRef(new SnapshotMetadata(index, term, conf), fileId), (int)length);
    }

    /// <summary>Writes the trailer for <paramref name="dataLength"/> bytes of data and the running checksum state.</summary>
    public static byte[] EncodeTrailer(long dataLength, uint crcState)
    {
        var t = new byte[TrailerSize];
        BinaryPrimitives.WriteUInt64LittleEndian(t, (ulong)dataLength);
        var crc = Crc32C.Finish(Crc32C.Append(crcState, t.AsSpan(0, 8)));
        BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(8), crc);
        return t;
    }
}
