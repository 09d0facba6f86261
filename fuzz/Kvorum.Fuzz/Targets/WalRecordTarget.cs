using System.Buffers.Binary;
using Kvorum.Raft;
using Kvorum.Storage;

namespace Kvorum.Fuzz.Targets;

/// <summary>
/// One WAL record and its payload (<see cref="RecordFormat"/>, <see cref="PayloadCodec"/>, <see cref="BatchFrame"/>):
/// any bytes parse as a record, as incomplete, or as invalid; a payload that does not decode throws
/// <see cref="FormatException"/>; whatever parses writes back to the same bytes.
/// </summary>
internal static class WalRecordTarget
{
    /// <summary>
    /// Checks <paramref name="input"/>, then the same bytes with a correct checksum: damage behind the checksum would
    /// otherwise never reach the payload decoders.
    /// </summary>
    public static void Run(byte[] input)
    {
        Check(input);
        if (input.Length < RecordFormat.HeaderSize)
            return;
        var length = BinaryPrimitives.ReadUInt32LittleEndian(input);
        if (length > (uint)(input.Length - RecordFormat.HeaderSize))
            return;
        var resealed = (byte[])input.Clone();
        var crc = Crc32C.Append(Crc32C.Start, resealed.AsSpan(0, RecordFormat.HeaderSize - 4));
        crc = Crc32C.Finish(Crc32C.Append(crc, resealed.AsSpan(RecordFormat.HeaderSize, (int)length)));
        BinaryPrimitives.WriteUInt32LittleEndian(resealed.AsSpan(RecordFormat.HeaderSize - 4), crc);
        Check(resealed);
    }

    private static void Check(byte[] input)
    {
        if (RecordFormat.TryParse(input, out var record, out _) != ParseStatus.Ok)
            return;
        var payload = input.AsSpan(record.PayloadOffset, record.PayloadLength);
        var rewritten = new byte[record.Size];
        RecordFormat.Write(rewritten, record.Type, record.EntryType, record.Index, record.Term, payload);
        DecoderPropertyException.ThrowIfDifferent(input.AsSpan(0, record.Size), rewritten, "record");
        try
        {
            DecodePayload(record, payload);
        }
        catch (FormatException)
        {
            // The documented refusal.
        }
    }

    private static void DecodePayload(in WalRecord record, ReadOnlySpan<byte> payload)
    {
        switch (record.Type)
        {
            case RecordType.HardState:
                var hs = PayloadCodec.DecodeHardState(payload);
                DecoderPropertyException.ThrowIfDifferent(payload, PayloadCodec.EncodeHardState(hs), "hard state");
                break;
            case RecordType.SnapshotCreated or RecordType.SnapshotInstalled:
                var snapshot = PayloadCodec.DecodeSnapshot(record.Index, record.Term, payload);
                var again = PayloadCodec.EncodeSnapshot(snapshot);
                DecoderPropertyException.ThrowIfDifferent(again, PayloadCodec.EncodeSnapshot(PayloadCodec.DecodeSnapshot(record.Index, record.Term, again)), "snapshot record");
                break;
            case RecordType.SegmentHeader:
                var (sequence, headerSnapshot, headerState) = PayloadCodec.DecodeSegmentHeader(payload);
                var header = PayloadCodec.EncodeSegmentHeader(sequence, headerSnapshot, headerState);
                var (s2, snap2, hs2) = PayloadCodec.DecodeSegmentHeader(header);
                DecoderPropertyException.ThrowIfDifferent(header, PayloadCodec.EncodeSegmentHeader(s2, snap2, hs2), "segment header");
                break;
            case RecordType.BatchEnd:
                BatchFrame.TryDecode(payload, out _, out _, out _);
                break;
        }
    }

    /// <summary>Valid records of every type.</summary>
    public static IReadOnlyList<byte[]> Seeds()
    {
        var conf = new ConfState([1, 2, 3], [4]);
        var snapshot = new SnapshotRef(new SnapshotMetadata(10, 2, conf), 7);
        var hardState = new HardState(3, 2, 9);
        return
        [
            Record(RecordType.Entry, (byte)EntryType.Normal, 11, 3, "a put's payload"u8),
            Record(RecordType.Entry, (byte)EntryType.ConfChange, 12, 3, new ConfChange(ConfChangeType.AddLearner, 5, new byte[] { 1, 2 }).Encode()),
            Record(RecordType.HardState, 0, 0, 0, PayloadCodec.EncodeHardState(hardState)),
            Record(RecordType.SnapshotInstalled, 0, 10, 2, PayloadCodec.EncodeSnapshot(snapshot)),
            Record(RecordType.SegmentHeader, SegmentFormat.Framed, 11, 0, PayloadCodec.EncodeSegmentHeader(4, snapshot, hardState)),
        ];
    }

    private static byte[] Record(RecordType type, byte entryType, ulong index, ulong term, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[RecordFormat.RecordSize(payload.Length)];
        RecordFormat.Write(bytes, type, entryType, index, term, payload);
        return bytes;
    }
}
