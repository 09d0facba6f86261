using Kvorum.Raft;

namespace Kvorum.Storage.Tests;

/// <summary>
/// Recovery keeps or drops whole group commits: a torn last batch is dropped as a unit and reported as a warning
/// (issue 19, finding 9), damage that a torn write cannot explain is refused (finding 12).
/// </summary>
public class BatchFrameTests
{
    private const int Sector = SegmentScan.SectorSize;

    /// <summary>A log of <paramref name="saves"/> acknowledged saves, then one large save; returns the last segment and where that save's batch starts.</summary>
    private static (string Path, int LastBatchStart, ulong LastAcked) Build(TempDir dir, int saves = 20)
    {
        using var s = Fixtures.Open(dir.Path, preallocate: false);
        for (ulong i = 1; i <= (ulong)saves; i++)
            s.Save(new HardState(1, 1, i - 1), Fixtures.Entries(i, 1, 1));
        var acked = s.LastIndex;
        var start = (int)new FileInfo(dir.Segments()[^1]).Length;
        // One batch of several sectors.
        s.Save(new HardState(2, 1, acked), Fixtures.Entries(acked + 1, 12, 2, length: 300));
        return (dir.Segments()[^1], start, acked);
    }

    private static DiskRaftStorage Open(TempDir dir, List<string> warnings) =>
        DiskRaftStorage.Open(new StorageOptions { DataDirectory = dir.Path, Warning = warnings.Add });

    [Fact]
    public void A_torn_last_batch_whose_later_sector_survived_is_dropped_whole_with_a_warning()
    {
        using var dir = new TempDir();
        var (path, start, acked) = Build(dir);
        var bytes = File.ReadAllBytes(path);
        // The power cut: one sector of the batch never reached the disk, the ones after it did.
        var lost = (start / Sector + 2) * Sector;
        Assert.True(lost + Sector < bytes.Length, "the batch spans the lost sector and more");
        bytes.AsSpan(lost, Sector).Clear();
        File.WriteAllBytes(path, bytes);

        var warnings = new List<string>();
        using var s = Open(dir, warnings);
        Assert.Equal(acked, s.LastIndex);
        Assert.Equal(new HardState(1, 1, acked - 1), s.HardState);
        var warning = Assert.Single(warnings);
        Assert.Contains(path, warning, StringComparison.Ordinal);
        Assert.Contains($"offset {start}", warning, StringComparison.Ordinal);
        Assert.Contains($"entries {acked + 1} to {acked + 12}", warning, StringComparison.Ordinal);
        Assert.Equal(warnings, s.Recovery.Warnings);
        Assert.Equal(start, new FileInfo(path).Length);
    }

    [Fact]
    public void A_last_batch_cut_short_is_dropped_whole_with_a_warning()
    {
        using var dir = new TempDir();
        var (path, start, acked) = Build(dir);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes.AsSpan(0, start + 700).ToArray());

        var warnings = new List<string>();
        using var s = Open(dir, warnings);
        Assert.Equal(acked, s.LastIndex);
        var warning = Assert.Single(warnings);
        Assert.Contains($"offset {start} (700 bytes)", warning, StringComparison.Ordinal);
        Assert.Equal(700, s.Recovery.TruncatedBytes);
    }

    [Theory]
    [InlineData(20)]  // in the footer's payload: its checksum over the batch
    [InlineData(40)]  // in the footer's record header
    [InlineData(100)] // in the last entry's payload
    public void A_bit_flipped_in_a_complete_last_batch_is_corruption_not_a_torn_write(int fromEnd)
    {
        using var dir = new TempDir();
        var (path, start, _) = Build(dir);
        var bytes = File.ReadAllBytes(path);
        bytes[^fromEnd] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<WalCorruptException>(() => Open(dir, []));
        Assert.Equal(path, e.FilePath);
        Assert.True(e.Offset >= start, $"reported at {e.Offset}, the batch starts at {start}");
        Assert.Contains("not a torn write", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Zeros that are data (a value of zeros, in a record whose own checksum holds) are no sign of a torn write: a bit
    /// flipped in the footer of a complete last batch holding such a value is still corruption (found by a review:
    /// the batch was dropped as torn because some sector after its start was all zeros).
    /// </summary>
    [Fact]
    public void A_damaged_last_batch_holding_a_value_of_zeros_is_corruption_not_a_torn_write()
    {
        using var dir = new TempDir();
        string path;
        using (var s = Fixtures.Open(dir.Path, preallocate: false))
        {
            for (ulong i = 1; i <= 5; i++)
                s.Save(new HardState(1, 1, i - 1), Fixtures.Entries(i, 1, 1));
            s.Save(new HardState(1, 1, 5), [new Entry(6, 1, new byte[4 * Sector]), new Entry(7, 1, new byte[] { 7 })]);
            path = dir.Segments()[^1];
        }
        var bytes = File.ReadAllBytes(path);
        bytes[^20] ^= 0x10; // in the footer's checksum over the batch
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<WalCorruptException>(() => Open(dir, []));
        Assert.Contains("not a torn write", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_batch_followed_by_a_batch_that_says_it_was_durable_is_corruption()
    {
        using var dir = new TempDir();
        var (path, start, _) = Build(dir);
        // The same damage as a torn write, but in the batch before the last: the last batch's footer says the
        // bytes before it had been fsynced when it was written.
        var bytes = File.ReadAllBytes(path);
        var earlier = start - 200;
        bytes.AsSpan(earlier, 40).Clear();
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<WalCorruptException>(() => Open(dir, []));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("already durable", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_batches_in_flight_together_are_dropped_together_when_the_earlier_one_is_torn()
    {
        using var dir = new TempDir();
        var (path, start, acked) = Build(dir);
        var bytes = File.ReadAllBytes(path);
        var previous = BatchStarts(bytes).Last(b => b < start);
        // A batch written while the fsync of the one before still ran (as two sync lanes once did, so a WAL may hold
        // such batches) has a footer that says only the bytes before that one were durable. The power cut tore the
        // earlier one: its sector reads as zeros (and so do the later batch's bytes in it).
        var footer = bytes.Length - BatchFrame.FooterSize;
        BatchFrame.WriteFooter(bytes.AsSpan(start, bytes.Length - start), start, previous);
        Assert.NotEqual(File.ReadAllBytes(path).AsSpan(footer).ToArray(), bytes.AsSpan(footer).ToArray());
        bytes.AsSpan(previous, (previous / Sector + 1) * Sector - previous).Clear();
        File.WriteAllBytes(path, bytes);

        var warnings = new List<string>();
        using var s = Open(dir, warnings);
        Assert.Equal(acked - 1, s.LastIndex);
        var warning = Assert.Single(warnings);
        Assert.Contains($"offset {previous}", warning, StringComparison.Ordinal);
    }

    /// <summary>Where each batch of a framed segment starts, from its footers.</summary>
    private static List<int> BatchStarts(byte[] segment)
    {
        var starts = new List<int>();
        for (var q = 0; RecordFormat.TryParse(segment.AsSpan(q), out var record, out _) == ParseStatus.Ok; q += record.Size)
        {
            if (record.Type == RecordType.BatchEnd
                && BatchFrame.TryDecode(segment.AsSpan(q + RecordFormat.HeaderSize, record.PayloadLength), out var batchStart, out _, out _))
                starts.Add((int)batchStart);
        }
        return starts;
    }

    [Fact]
    public void A_segment_written_before_batch_frames_still_opens_and_new_writes_go_to_a_framed_segment()
    {
        using var dir = new TempDir();
        HardState hs;
        using (var s = Fixtures.Open(dir.Path, segmentSize: 1024, preallocate: false))
        {
            for (ulong i = 1; i <= 40; i++)
                s.Save(new HardState(1, 1, i - 1), Fixtures.Entries(i, 1, 1));
            hs = s.HardState;
        }
        foreach (var path in dir.Segments())
            File.WriteAllBytes(path, Unframe(File.ReadAllBytes(path)));
        var before = dir.Segments().Length;

        using (var s = Fixtures.Open(dir.Path, segmentSize: 1024))
        {
            Assert.Equal(40ul, s.LastIndex);
            Assert.Equal(hs, s.HardState);
            Assert.Equal(before + 1, dir.Segments().Length);
            s.Save(null, Fixtures.Entries(41, 3, 1));
        }
        using (var s = Fixtures.Open(dir.Path, segmentSize: 1024))
        {
            Assert.Equal(43ul, s.LastIndex);
            Assert.Equal(Fixtures.Payload(20), Fixtures.All(s)[19].Data.ToArray());
        }
    }

    /// <summary>The segment as the storage wrote it before batch frames: no footers, format 0 in the header.</summary>
    private static byte[] Unframe(byte[] segment)
    {
        var output = new List<byte>();
        var q = 0;
        while (q < segment.Length && RecordFormat.TryParse(segment.AsSpan(q), out var record, out _) == ParseStatus.Ok)
        {
            if (record.Type == RecordType.SegmentHeader)
            {
                var copy = new byte[record.Size];
                RecordFormat.Write(copy, RecordType.SegmentHeader, SegmentFormat.Unframed, record.Index, record.Term,
                    segment.AsSpan(q + RecordFormat.HeaderSize, record.PayloadLength));
                output.AddRange(copy);
            }
            else if (record.Type != RecordType.BatchEnd)
            {
                output.AddRange(segment.AsSpan(q, record.Size));
            }
            q += record.Size;
        }
        return [.. output];
    }
}
