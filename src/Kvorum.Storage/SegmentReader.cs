namespace Kvorum.Storage;

/// <summary>
/// Reads the records of one segment file in order. The whole file is loaded into one array; entry
/// payloads handed out are slices of it (so a segment's memory lives as long as any of its entries). The
/// zeros reserved at the end of the last segment (see <see cref="FilePreallocation"/>) are left out.
/// </summary>
internal sealed class SegmentReader
{
    private int _offset;

    /// <summary>Loads <paramref name="path"/>.</summary>
    public SegmentReader(IFileSystem fs, string path)
    {
        ArgumentNullException.ThrowIfNull(fs);
        Path = path;
        Content = WithoutReservedTail(fs.ReadAllBytes(path));
    }

    /// <summary>Loads <paramref name="path"/> from the real file system.</summary>
    public SegmentReader(string path)
        : this(OsFileSystem.Instance, path)
    {
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The file's bytes, without a tail of reserved zeros.</summary>
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
    /// Drops the zeros at the end of <paramref name="content"/>, keeping everything up to the end of its valid
    /// records or its last non-zero byte, whichever is later: what lies between the two (a torn record, or
    /// corruption) stays for recovery to judge, and a last record whose own bytes end in zeros stays whole.
    /// </summary>
    private static byte[] WithoutReservedTail(byte[] content)
    {
        if (content.Length == 0 || content[^1] != 0)
            return content;
        var keep = content.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;
        var offset = 0;
        while (offset < keep && RecordFormat.TryParse(content.AsSpan(offset), out var record, out _) == ParseStatus.Ok)
            offset += record.Size;
        keep = Math.Max(keep, offset);
        return keep == content.Length ? content : content.AsSpan(0, keep).ToArray();
    }

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
            if (!RecordFormat.IsKnownType(type) || data[q + 6] != 0 || data[q + 7] != 0)
                continue;
            if (RecordFormat.TryParse(data[q..], out _, out _) == ParseStatus.Ok)
                return q;
        }
        return -1;
    }
}
