namespace Kvorum.Storage;

/// <summary>What a WAL record holds. Stored as one byte in the record header; 0 is never valid.</summary>
internal enum RecordType : byte
{
    /// <summary>
    /// First record of every segment: its sequence number and the log's snapshot and hard state at the
    /// moment the segment was started. Header index = the log's last index at that moment (the "base"); the
    /// entry-type byte holds the segment's format (<see cref="SegmentFormat"/>).
    /// </summary>
    SegmentHeader = 1,

    /// <summary>A log entry. Header index/term are the entry's; payload is its data. An index at or below the
    /// current last index replaces the log's suffix from there (conflict truncation).</summary>
    Entry = 2,

    /// <summary>A new hard state (term, vote, commit).</summary>
    HardState = 3,

    /// <summary>A snapshot the application took: entries up to its index are dropped, later ones kept.</summary>
    SnapshotCreated = 4,

    /// <summary>A snapshot received from a leader: the whole log is replaced by it.</summary>
    SnapshotInstalled = 5,

    /// <summary>End of a group commit's records in a segment: where they start and their checksum (see <see cref="BatchFrame"/>).</summary>
    BatchEnd = 6,
}
