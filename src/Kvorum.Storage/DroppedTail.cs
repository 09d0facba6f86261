namespace Kvorum.Storage;

/// <summary>
/// The end of the last segment that recovery found torn (never made durable) and cut off: where it was, how
/// many bytes, and which entries it held as far as they could still be read.
/// </summary>
/// <param name="FilePath">The segment.</param>
/// <param name="Offset">Where the cut was made: the start of the first batch that was not whole.</param>
/// <param name="Bytes">Bytes cut, up to the last non-zero one (zeros after it read the same as reserved space).</param>
/// <param name="FirstIndex">Lowest entry index among the readable records cut, or 0 if none.</param>
/// <param name="LastIndex">Highest entry index among them, or 0.</param>
/// <param name="Problem">What made the batch invalid.</param>
internal sealed record DroppedTail(string FilePath, long Offset, long Bytes, ulong FirstIndex, ulong LastIndex, string Problem)
{
    /// <summary>One line for the log.</summary>
    public string Message =>
        $"WAL tail dropped: {FilePath} from byte offset {Offset} ({Bytes} bytes), "
        + (FirstIndex == 0 ? "no readable entries" : $"entries {FirstIndex} to {LastIndex}")
        + $": a write that never became durable (torn at a crash): {Problem}";

    /// <summary>Describes the tail of <paramref name="reader"/>'s segment from <paramref name="offset"/>.</summary>
    public static DroppedTail Describe(SegmentReader reader, int offset, List<(int Offset, WalRecord Record)> parsed, string problem)
    {
        ulong first = 0, last = 0;
        void Note(in WalRecord record)
        {
            if (record.Type != RecordType.Entry)
                return;
            first = first == 0 ? record.Index : Math.Min(first, record.Index);
            last = Math.Max(last, record.Index);
        }
        foreach (var (_, record) in parsed)
            Note(record);
        // Later records that survived, readable on their own, past the damage.
        var content = reader.Content.AsSpan();
        var q = parsed.Count > 0 ? parsed[^1].Offset : offset;
        while ((q = (int)reader.FindValidRecordAfter(q)) >= 0)
        {
            if (RecordFormat.TryParse(content[q..], out var record, out _) == ParseStatus.Ok)
            {
                Note(record);
                q += record.Size - 1; // the next record starts after this one, not inside its payload
            }
        }
        return new DroppedTail(reader.Path, offset, content.Length - offset, first, last, problem);
    }
}
