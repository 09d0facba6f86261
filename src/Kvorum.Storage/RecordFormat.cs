using System.Buffers.Binary;

namespace Kvorum.Storage;

/// <summary>
/// The framing of one WAL record: a fixed 28-byte header followed by the payload.
/// </summary>
/// <remarks>
/// Layout, little-endian:
/// <code>
///  0  u32  payload length
///  4  u8   record type (<see cref="RecordType"/>)
///  5  u8   entry type (for <see cref="RecordType.Entry"/>), segment format (for <see cref="RecordType.SegmentHeader"/>); otherwise 0
///  6  u16  reserved, 0
///  8  u64  Raft index
/// 16  u64  Raft term
/// 24  u32  CRC-32C over bytes [0, 24) of the header and then the payload
/// </code>
/// A record is valid only if it is complete, its reserved bytes are zero, its type is known and the
/// checksum matches; anything else is reported as invalid, never half-accepted.
/// </remarks>
internal static class RecordFormat
{
    /// <summary>Size of the fixed header.</summary>
    public const int HeaderSize = 28;

    /// <summary>Largest payload accepted; a header claiming more is treated as garbage.</summary>
    public const int MaxPayload = 256 * 1024 * 1024;

    private const int ChecksumOffset = 24;

    /// <summary>True if <paramref name="type"/> is a <see cref="RecordType"/>.</summary>
    public static bool IsKnownType(byte type) => type is >= (byte)RecordType.SegmentHeader and <= (byte)RecordType.BatchEnd;

    /// <summary>Total size of a record with a payload of <paramref name="payloadLength"/> bytes.</summary>
    public static int RecordSize(int payloadLength) => HeaderSize + payloadLength;

    /// <summary>Writes a whole record into <paramref name="destination"/>, which must be exactly its size.</summary>
    public static void Write(Span<byte> destination, RecordType type, byte entryType, ulong index, ulong term, ReadOnlySpan<byte> payload)
    {
        if (destination.Length != HeaderSize + payload.Length)
            throw new ArgumentException("destination must be exactly the record size", nameof(destination));
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)payload.Length);
        destination[4] = (byte)type;
        destination[5] = entryType;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], index);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], term);
        payload.CopyTo(destination[HeaderSize..]);
        var crc = Crc32C.Append(Crc32C.Start, destination[..ChecksumOffset]);
        crc = Crc32C.Finish(Crc32C.Append(crc, payload));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[ChecksumOffset..], crc);
    }

    /// <summary>
    /// Parses the record at the start of <paramref name="buffer"/> (which extends to the end of the file).
    /// </summary>
    /// <returns><see cref="ParseStatus.Ok"/> with the record, <see cref="ParseStatus.Incomplete"/> if the file ends
    /// inside it, or <see cref="ParseStatus.Invalid"/> with a reason.</returns>
    public static ParseStatus TryParse(ReadOnlySpan<byte> buffer, out WalRecord record, out string problem)
    {
        record = default;
        problem = "";
        if (buffer.Length < HeaderSize)
        {
            problem = $"incomplete header ({buffer.Length} of {HeaderSize} bytes)";
            return ParseStatus.Incomplete;
        }
        var length = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
        var type = (RecordType)buffer[4];
        var reserved = BinaryPrimitives.ReadUInt16LittleEndian(buffer[6..]);
        if (length > MaxPayload || !IsKnownType((byte)type) || reserved != 0)
        {
            problem = $"malformed header (length {length}, type {(byte)type}, reserved {reserved})";
            return ParseStatus.Invalid;
        }
        if (buffer.Length < HeaderSize + (long)length)
        {
            problem = $"incomplete record ({buffer.Length} of {HeaderSize + (long)length} bytes)";
            return ParseStatus.Incomplete;
        }
        var payload = buffer.Slice(HeaderSize, (int)length);
        var crc = Crc32C.Append(Crc32C.Start, buffer[..ChecksumOffset]);
        crc = Crc32C.Finish(Crc32C.Append(crc, payload));
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(buffer[ChecksumOffset..]);
        if (crc != stored)
        {
            problem = $"checksum mismatch (stored 0x{stored:x8}, computed 0x{crc:x8})";
            return ParseStatus.Invalid;
        }
        record = new WalRecord(
            type,
            buffer[5],
            BinaryPrimitives.ReadUInt64LittleEndian(buffer[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(buffer[16..]),
            HeaderSize,
            (int)length);
        return ParseStatus.Ok;
    }
}

/// <summary>Outcome of <see cref="RecordFormat.TryParse"/>.</summary>
internal enum ParseStatus
{
    /// <summary>A complete record with a matching checksum.</summary>
    Ok,

    /// <summary>The data ends before the record does.</summary>
    Incomplete,

    /// <summary>The bytes are not a valid record.</summary>
    Invalid,
}

/// <summary>A parsed record; the payload is at [<see cref="PayloadOffset"/>, +<see cref="PayloadLength"/>) of the parsed buffer.</summary>
internal readonly record struct WalRecord(RecordType Type, byte EntryType, ulong Index, ulong Term, int PayloadOffset, int PayloadLength)
{
    /// <summary>Total bytes the record occupies.</summary>
    public int Size => RecordFormat.HeaderSize + PayloadLength;
}
