namespace Kvorum.Storage;

/// <summary>
/// Reads the records of one segment after its header and decides where its valid part ends: which records
/// recovery applies, and whether a damaged tail is a write the power cut interrupted (dropped, and reported)
/// or corruption (refused, naming the file and offset).
/// </summary>
/// <remarks>
/// <para>The rule, for a framed segment (see <see cref="BatchFrame"/>): records count only as part of a whole
/// batch, that is once the footer after them is valid, names where they start and its checksum matches all of
/// them. Damage at offset X, in a batch starting at S, is a torn tail and dropped from S on if all of these hold:
/// the segment is the last one (a segment is fsynced whole before the next is created); no valid footer after X
/// says that the bytes at X were already durable when its batch was written; and the damage looks like a write
/// cut short: the data ends inside the batch, or a disk sector of the batch reads as zeros (a sector that never
/// reached the disk reads as it was, and WAL appends only ever go to zeroed space). Otherwise it is corruption.</para>
/// <para>An unframed segment (written before the frames) keeps the old rule: the last segment may end in a
/// partial record with no valid record after it.</para>
/// </remarks>
internal sealed class SegmentScan
{
    /// <summary>The size of the disk sector that a power cut writes whole or not at all.</summary>
    public const int SectorSize = 512;

    private readonly SegmentReader _reader;
    private readonly bool _isLast;

    private SegmentScan(SegmentReader reader, bool isLast)
    {
        _reader = reader;
        _isLast = isLast;
    }

    /// <summary>The records to apply, after the header, in order, with their offsets.</summary>
    public List<(int Offset, WalRecord Record)> Records { get; } = [];

    /// <summary>Bytes of the segment that are valid; where appends continue. 0 if not even the first batch is.</summary>
    public int ValidLength { get; private set; }

    /// <summary>What was found torn at the end and dropped, or null.</summary>
    public DroppedTail? Dropped { get; private set; }

    /// <summary>
    /// Scans the segment of <paramref name="reader"/>, positioned after its header record, which is in
    /// <paramref name="format"/>. Throws <see cref="WalCorruptException"/> on corruption.
    /// </summary>
    public static SegmentScan Run(SegmentReader reader, byte format, bool isLast)
    {
        var scan = new SegmentScan(reader, isLast);
        if (format == SegmentFormat.Framed)
            scan.ScanFramed();
        else
            scan.ScanUnframed();
        return scan;
    }

    /// <summary>
    /// For a last segment whose header record is bad: true if the segment looks like one whose creation the crash
    /// cut short (nothing after the header is valid, or the damage looks torn, and no footer proves the start durable).
    /// </summary>
    public static bool IsTornStart(SegmentReader reader, ParseStatus headerStatus)
    {
        var scan = new SegmentScan(reader, isLast: true);
        if (scan.FindDurabilityProof(0) is not null)
            return false;
        var nextValid = reader.FindValidRecordAfter(0);
        // As for a damaged batch: the zeroed sector must be where the damage is, before the next valid record.
        return headerStatus == ParseStatus.Incomplete || nextValid < 0 || HasZeroSector(reader.Content, 0, (int)nextValid);
    }

    private void ScanFramed()
    {
        var pending = new List<(int Offset, WalRecord Record)>();
        var batchStart = 0; // the header is the first record of the first batch
        while (true)
        {
            var offset = _reader.Offset;
            var status = _reader.Next(out var record, out var problem);
            if (status == ParseStatus.Ok && record.Type != RecordType.BatchEnd)
            {
                pending.Add((offset, record));
                continue;
            }
            if (status == ParseStatus.Ok)
            {
                problem = CheckFooter(record, batchStart, offset);
                if (problem is null)
                {
                    Records.AddRange(pending);
                    pending.Clear();
                    batchStart = _reader.Offset;
                    continue;
                }
                Damaged(batchStart, offset, problem, incomplete: false, pending);
                return;
            }
            if (_reader.AtEnd && offset == batchStart)
            {
                ValidLength = batchStart;
                return;
            }
            var incomplete = status == ParseStatus.Incomplete;
            if (_reader.AtEnd)
                problem = "the data ends before the batch's footer";
            Damaged(batchStart, offset, problem, incomplete, pending);
            return;
        }
    }

    /// <summary>Null if <paramref name="footer"/> closes the batch at <paramref name="batchStart"/>; else what is wrong.</summary>
    private string? CheckFooter(in WalRecord footer, int batchStart, int footerOffset)
    {
        if (!BatchFrame.TryDecode(_reader.Payload(footer).Span, out var start, out _, out var crc))
            return "undecodable batch footer";
        if (start != batchStart)
            return $"batch footer says its batch starts at offset {start}, but the previous batch ended at {batchStart}";
        var computed = Crc32C.Compute(_reader.Content.AsSpan(batchStart, footerOffset - batchStart));
        return computed == crc ? null : $"batch checksum mismatch over [{batchStart}, {footerOffset}) (stored 0x{crc:x8}, computed 0x{computed:x8})";
    }

    private void Damaged(int batchStart, int offset, string problem, bool incomplete, List<(int Offset, WalRecord Record)> pending)
    {
        var content = _reader.Content.AsSpan();
        var proof = FindDurabilityProof(offset);
        if (proof is { } p)
        {
            throw new WalCorruptException(_reader.Path, offset,
                $"{problem}; the batch footer at offset {p.Offset} says the first {p.Durable} bytes were already durable, so this is not a torn write");
        }
        if (!_isLast)
            throw new WalCorruptException(_reader.Path, offset, $"{problem} (not in the last segment)");
        // A torn write zeroes whole sectors where the damage is: zeros inside records whose own checksums hold (a value
        // of zeros) or in valid records after the damage say nothing about it.
        var nextValid = (int)_reader.FindValidRecordAfter(offset);
        if (!incomplete && !HasZeroSector(content, offset, nextValid < 0 ? content.Length : nextValid))
        {
            throw new WalCorruptException(_reader.Path, offset,
                $"{problem}: the batch at offset {batchStart} is complete but damaged: corruption, not a torn write");
        }
        ValidLength = batchStart;
        Dropped = DroppedTail.Describe(_reader, batchStart, pending, problem);
    }

    /// <summary>A valid footer after <paramref name="offset"/> that says the bytes at it were durable.</summary>
    private (int Offset, long Durable)? FindDurabilityProof(int offset)
    {
        var q = offset;
        while ((q = (int)_reader.FindValidRecordAfter(q)) >= 0)
        {
            if (RecordFormat.TryParse(_reader.Content.AsSpan(q), out var record, out _) == ParseStatus.Ok
                && record.Type == RecordType.BatchEnd
                && BatchFrame.TryDecode(_reader.Content.AsSpan(q + record.PayloadOffset, record.PayloadLength), out _, out var durable, out _)
                && durable > offset)
                return (q, durable);
        }
        return null;
    }

    /// <summary>True if a disk sector overlapping [<paramref name="from"/>, <paramref name="to"/>) holds only zeros there.</summary>
    internal static bool HasZeroSector(ReadOnlySpan<byte> content, int from, int to = int.MaxValue)
    {
        to = Math.Min(to, content.Length);
        for (var lo = from; lo < to;)
        {
            var hi = Math.Min(to, (lo / SectorSize + 1) * SectorSize);
            if (!content[lo..hi].ContainsAnyExcept((byte)0))
                return true;
            lo = hi;
        }
        return false;
    }

    private void ScanUnframed()
    {
        while (true)
        {
            var offset = _reader.Offset;
            var status = _reader.Next(out var record, out var problem);
            if (status == ParseStatus.Ok)
            {
                Records.Add((offset, record));
                continue;
            }
            if (!_reader.AtEnd)
            {
                if (!_isLast)
                    throw new WalCorruptException(_reader.Path, offset, $"{problem} (not in the last segment)");
                var next = _reader.FindValidRecordAfter(offset);
                if (next >= 0)
                    throw new WalCorruptException(_reader.Path, offset, $"{problem}, and a valid record follows at offset {next}");
                Dropped = DroppedTail.Describe(_reader, offset, [], problem);
            }
            ValidLength = offset;
            return;
        }
    }
}
