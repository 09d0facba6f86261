using System.Buffers.Binary;

namespace Kvorum.Storage;

/// <summary>
/// The frame that makes each group commit self-describing: every run of records one fsync makes durable in a
/// segment ends with a <see cref="RecordType.BatchEnd"/> record naming where the run starts and holding a
/// checksum over all of it. Recovery accepts a segment's records one whole batch at a time (see
/// <see cref="SegmentScan"/>), so a batch cut by a power loss is dropped as a unit.
/// </summary>
/// <remarks>
/// Footer payload, little-endian:
/// <code>
///  0  u64  start: segment offset of the batch's first byte
///  8  u64  durable: bytes of the segment known to be on stable storage when the batch was written (≤ start)
/// 16  u32  CRC-32C over the segment's bytes [start, offset of the footer)
/// </code>
/// <c>durable</c> is what lets recovery tell a torn tail from corruption: a footer saying that the bytes
/// before it were durable proves that damage there is not a write the power cut interrupted.
/// Segments in this format say so in their header (<see cref="SegmentFormat"/>).
/// </remarks>
internal static class BatchFrame
{
    /// <summary>Size of the footer's payload.</summary>
    public const int PayloadSize = 20;

    /// <summary>Size of the whole footer record.</summary>
    public const int FooterSize = RecordFormat.HeaderSize + PayloadSize;

    /// <summary>
    /// Fills the footer at the end of <paramref name="batch"/> (its last <see cref="FooterSize"/> bytes), for a
    /// batch written at <paramref name="start"/> of a segment whose first <paramref name="durable"/> bytes are durable.
    /// </summary>
    public static void WriteFooter(Span<byte> batch, long start, long durable)
    {
        var records = batch[..^FooterSize];
        Span<byte> payload = stackalloc byte[PayloadSize];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, (ulong)start);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], (ulong)durable);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[16..], Crc32C.Compute(records));
        RecordFormat.Write(batch[^FooterSize..], RecordType.BatchEnd, 0, 0, 0, payload);
    }

    /// <summary><paramref name="records"/> followed by room for their footer.</summary>
    public static byte[] WithFooterSpace(ReadOnlySpan<byte> records)
    {
        var bytes = new byte[records.Length + FooterSize];
        records.CopyTo(bytes);
        return bytes;
    }

    /// <summary>Decodes a footer's payload; false if it is not a footer's size.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> payload, out long start, out long durable, out uint crc)
    {
        start = durable = 0;
        crc = 0;
        if (payload.Length != PayloadSize)
            return false;
        var s = BinaryPrimitives.ReadUInt64LittleEndian(payload);
        var d = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
        if (s > int.MaxValue || d > s)
            return false;
        start = (long)s;
        durable = (long)d;
        crc = BinaryPrimitives.ReadUInt32LittleEndian(payload[16..]);
        return true;
    }
}

/// <summary>Format versions of a segment, in its header record's entry-type byte.</summary>
internal static class SegmentFormat
{
    /// <summary>Records one after another with no batch frames: written before the frames existed. Read, never written.</summary>
    public const byte Unframed = 0;

    /// <summary>Every fsynced batch ends with a <see cref="RecordType.BatchEnd"/> footer (see <see cref="BatchFrame"/>).</summary>
    public const byte Framed = 1;
}
