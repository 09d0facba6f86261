using System.Diagnostics;
using Kvorum.Raft;

namespace Kvorum.Storage;

/// <summary>
/// Rebuilds the log from the segment files on open: checks the segments form an unbroken sequence,
/// verifies every record's checksum, replays the records through <see cref="LogState"/>, and cuts a
/// torn tail off the last segment (see <see cref="SegmentScan"/> for how a torn tail is told from
/// corruption), reporting what it cut as a warning. Anything else that is wrong throws
/// <see cref="WalCorruptException"/> naming the file and offset: entries are never dropped silently.
/// </summary>
internal static class WalRecovery
{
    /// <summary>The result of a recovery.</summary>
    /// <param name="State">The log.</param>
    /// <param name="Segments">The segments kept, oldest first, with <see cref="Segment.PlannedLength"/> set to their valid length.</param>
    /// <param name="Report">What was found.</param>
    public sealed record Result(LogState State, List<Segment> Segments, RecoveryReport Report);

    /// <summary>
    /// Recovers the WAL in <paramref name="walDir"/>. Returns null if there is no segment (a new log).
    /// A torn tail is cut from the file here (and the file flushed), and reported through
    /// <paramref name="warn"/>; an incomplete last segment that never got its first batch is deleted.
    /// </summary>
    public static Result? Recover(IFileSystem fs, string walDir, Action<string> warn)
    {
        var clock = Stopwatch.StartNew();
        var segments = ListSegments(fs, walDir);
        if (segments.Count == 0)
            return null;

        LogState? state = null;
        long records = 0, bytes = 0, truncated = 0;
        string? truncatedFile = null;
        var warnings = new List<string>();
        var kept = new List<Segment>(segments.Count);
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            var isLast = i == segments.Count - 1;
            var reader = new SegmentReader(fs, segment.Path);
            bytes += reader.Content.Length;

            // The header record, then the others.
            var status = reader.Next(out var header, out var problem);
            SegmentScan? scan = null;
            if (status == ParseStatus.Ok && header.Type == RecordType.SegmentHeader)
            {
                if (header.EntryType > SegmentFormat.Framed)
                    throw new WalCorruptException(segment.Path, 0, $"unknown segment format {header.EntryType}");
                scan = SegmentScan.Run(reader, header.EntryType, isLast);
            }
            if (scan is null || scan.ValidLength == 0)
            {
                if (scan is { ValidLength: 0 } || (isLast && status != ParseStatus.Ok && SegmentScan.IsTornStart(reader, status)))
                {
                    // The crash hit while the segment was being started: nothing in it was ever acknowledged.
                    var dropped = scan?.Dropped ?? DroppedTail.Describe(reader, 0, [], $"bad segment header: {problem}");
                    Warn(dropped with { Problem = dropped.Problem + "; the segment is deleted" });
                    fs.Delete(segment.Path);
                    fs.SyncDirectory(walDir);
                    if (state is null)
                        return null;
                    break;
                }
                throw new WalCorruptException(segment.Path, 0,
                    status == ParseStatus.Ok ? $"first record is {header.Type}, not a segment header" : $"bad segment header: {problem}");
            }
            segment.HeaderLength = header.Size;
            ApplyHeader(ref state, segment, header, reader);
            records += 1 + scan.Records.Count;
            foreach (var (offset, record) in scan.Records)
                Apply(state!, segment, offset, record, reader);
            if (scan.Dropped is { } tail)
            {
                Warn(tail);
                using var file = fs.Open(segment.Path, FileMode.Open, FileAccess.Write);
                file.SetLength(scan.ValidLength);
                file.Sync();
            }
            segment.PlannedLength = scan.ValidLength;
            segment.Format = header.EntryType;
            kept.Add(segment);
        }

        // What was read may have been only in the page cache: a process that was killed wrote it, and the power
        // could still fail before it reaches the disk. It must be durable before the log acts on it (deletes the
        // snapshot files it replaced, appends after it, answers for it), and a new fsync is the only way to know.
        using (var last = fs.Open(kept[^1].Path, FileMode.Open, FileAccess.ReadWrite))
            last.Sync();
        fs.SyncDirectory(walDir);

        if (state!.HasHole)
        {
            throw new WalCorruptException(kept[0].Path, 0,
                $"entries {state.FirstIndex} to {state.StartIndex - 1} are missing: older segments are gone but no snapshot covers them");
        }
        var report = new RecoveryReport
        {
            Segments = kept.Count,
            Records = records,
            BytesRead = bytes,
            TruncatedBytes = truncated,
            TruncatedFile = truncatedFile,
            Warnings = warnings,
            Elapsed = clock.Elapsed,
        };
        return new Result(state, kept, report);

        void Warn(DroppedTail tail)
        {
            truncated += tail.Bytes;
            truncatedFile = tail.FilePath;
            warnings.Add(tail.Message);
            warn(tail.Message);
        }
    }

    /// <summary>Lists the segment files, sorted, and checks their sequence numbers have no gap.</summary>
    public static List<Segment> ListSegments(IFileSystem fs, string walDir)
    {
        var list = new List<Segment>();
        foreach (var path in fs.EnumerateFiles(walDir, SegmentName.Extension))
        {
            if (!SegmentName.TryParse(Path.GetFileName(path), out var seq, out var first) || first == 0)
                throw new WalCorruptException(path, 0, "unexpected file name in the WAL directory");
            list.Add(new Segment(seq, first - 1, path));
        }
        list.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        for (var i = 1; i < list.Count; i++)
        {
            if (list[i].Sequence != list[i - 1].Sequence + 1)
            {
                throw new WalCorruptException(list[i].Path, 0,
                    $"missing segment(s): sequence {list[i - 1].Sequence + 1} to {list[i].Sequence - 1} not found after {Path.GetFileName(list[i - 1].Path)}");
            }
        }
        return list;
    }

    private static void ApplyHeader(ref LogState? state, Segment segment, in WalRecord header, SegmentReader reader)
    {
        (ulong Sequence, SnapshotRef Snapshot, HardState HardState) h;
        try
        {
            h = PayloadCodec.DecodeSegmentHeader(reader.Payload(header).Span);
        }
        catch (FormatException e)
        {
            throw new WalCorruptException(segment.Path, 0, $"undecodable segment header: {e.Message}", e);
        }
        if (h.Sequence != segment.Sequence || header.Index != segment.BaseIndex)
        {
            throw new WalCorruptException(segment.Path, 0,
                $"header says sequence {h.Sequence}, base {header.Index}; the file name says sequence {segment.Sequence}, base {segment.BaseIndex}");
        }
        if (state is null)
        {
            try
            {
                state = new LogState(h.Snapshot, h.HardState, header.Index);
            }
            catch (FormatException e)
            {
                throw new WalCorruptException(segment.Path, 0, e.Message, e);
            }
            return;
        }
        if (header.Index != state.LastIndex)
        {
            throw new WalCorruptException(segment.Path, 0,
                $"gap in indexes: segment starts after index {header.Index} but the previous segment ends at {state.LastIndex}");
        }
        if (h.Snapshot != state.Snapshot || h.HardState != state.HardState)
            throw new WalCorruptException(segment.Path, 0, "segment header disagrees with the state the previous segments give");
    }

    private static void Apply(LogState state, Segment segment, int offset, in WalRecord record, SegmentReader reader)
    {
        try
        {
            switch (record.Type)
            {
                case RecordType.Entry:
                    if (record.EntryType > (byte)EntryType.ConfChange)
                        throw new FormatException($"unknown entry type {record.EntryType}");
                    if (record.Index <= state.Snapshot.Index)
                        throw new FormatException($"entry {record.Index} is at or below the snapshot index {state.Snapshot.Index}");
                    state.Append(new Entry(record.Index, record.Term, (EntryType)record.EntryType, reader.Payload(record)));
                    break;
                case RecordType.HardState:
                    state.HardState = PayloadCodec.DecodeHardState(reader.Payload(record).Span);
                    break;
                case RecordType.SnapshotCreated:
                    state.CreateSnapshot(PayloadCodec.DecodeSnapshot(record.Index, record.Term, reader.Payload(record).Span));
                    break;
                case RecordType.SnapshotInstalled:
                    state.InstallSnapshot(PayloadCodec.DecodeSnapshot(record.Index, record.Term, reader.Payload(record).Span));
                    break;
                default:
                    throw new FormatException($"unexpected {record.Type} record inside a segment");
            }
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new WalCorruptException(segment.Path, offset, e.Message, e);
        }
    }
}
