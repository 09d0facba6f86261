namespace Kvorum.Storage;

/// <summary>One segment file of the WAL, as the log tracks it.</summary>
/// <param name="Sequence">Position among the segments, starting at 1, with no gaps.</param>
/// <param name="BaseIndex">The log's last index when the segment was started; its first entry is expected at BaseIndex + 1.</param>
/// <param name="Path">Full path of the file.</param>
internal sealed record Segment(ulong Sequence, ulong BaseIndex, string Path)
{
    /// <summary>
    /// Bytes the segment will hold once everything queued for it is written. Changed only under the
    /// storage's lock, by the appending side; decides when to start a new segment.
    /// </summary>
    public long PlannedLength { get; set; }

    /// <summary>Size of the segment's header record; a segment holding only its header is never rolled over.</summary>
    public long HeaderLength { get; set; }

    /// <summary>The segment's format (<see cref="SegmentFormat"/>); new segments are always framed.</summary>
    public byte Format { get; set; } = SegmentFormat.Framed;
}
