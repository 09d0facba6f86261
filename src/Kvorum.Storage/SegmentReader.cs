namespace Kvorum.Storage;

/// <summary>
/// Reads the records of one segment file in order. The whole file is loaded into one array; entry
/// payloads handed out are slices of it (so a segment's memory lives as long as any of its entries).
/// </summary>
internal sealed class SegmentReader
{
    private int _offset;

    /// <summary>Loads <paramref name="path"/>.</summary>
    public SegmentReader(string path)
    {
        Path = path;
        Content = File.ReadAllBytes(path);
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The file's bytes.</summary>
    public byte[] Content { get; }

    /// <summary>Offset of the next record to read (after the last valid one).</summary>
    public int Offset => _offset;

    /// <summary>
    /// Reads the next record. Returns <see cref="ParseStatus.Ok"/> and advances, or the failure with
    /// <see cref="Offset"/> left at the bad record. At the end of the file returns Incomplete with an empty problem.
    /// </summary>
    public ParseStatus Next(out WalRecord record, out string problem)
    {
        if (_offset == Content.Length)
        {
            record = default;
            problem = "";
            return ParseStatus.Incomplete;
        }
        var status = RecordFormat.TryParse(Content.AsSpan(_offset), out var r, out problem);
        if (status != ParseStatus.Ok)
        {
            record = default;
            return status;
        }
        record = r with { PayloadOffset = _offset + r.PayloadOffset };
        _offset += r.Size;
        return ParseStatus.Ok;
    }

    /// <summary>True if the reader is at the end of the file.</summary>
    public bool AtEnd => _offset == Content.Length;

    /// <summary>The payload of a record returned by <see cref="Next"/>.</summary>
    public ReadOnlyMemory<byte> Payload(in WalRecord record) => Content.AsMemory(record.PayloadOffset, record.PayloadLength);

    /// <summary>
    /// Looks for any valid record starting after <paramref name="badOffset"/>. A bad record followed by a
    /// valid one is corruption, not a torn write; returns the offset found, or -1.
    /// </summary>
    public long FindValidRecordAfter(int badOffset)
    {
        var data = Content.AsSpan();
        for (var q = badOffset + 1; q + RecordFormat.HeaderSize <= data.Length; q++)
        {
            // Cheap filters first: known type and zero reserved bytes.
            var type = data[q + 4];
            if (type is 0 or > (byte)RecordType.SnapshotInstalled || data[q + 6] != 0 || data[q + 7] != 0)
                continue;
            if (RecordFormat.TryParse(data[q..], out _, out _) == ParseStatus.Ok)
                return q;
        }
        return -1;
    }
}
