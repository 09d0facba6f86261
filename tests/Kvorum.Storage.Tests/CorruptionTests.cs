using System.Buffers.Binary;
using Kvorum.Raft;

namespace Kvorum.Storage.Tests;

public class CorruptionTests
{
    /// <summary>A log over several segments; returns the record start offsets of each segment.</summary>
    private static List<(string Path, List<int> Records)> Build(TempDir dir, int entries = 80)
    {
        using (var s = Fixtures.Open(dir.Path, segmentSize: 1024))
        {
            for (ulong i = 1; i <= (ulong)entries; i++)
                s.Save(new HardState(1, 1, i - 1), Fixtures.Entries(i, 1, 1));
        }
        var result = new List<(string, List<int>)>();
        foreach (var path in dir.Segments())
        {
            var reader = new SegmentReader(path);
            var starts = new List<int>();
            while (true)
            {
                var at = reader.Offset;
                if (reader.Next(out _, out _) != ParseStatus.Ok)
                    break;
                starts.Add(at);
            }
            result.Add((path, starts));
        }
        return result;
    }

    /// <summary>Rewrites the footer of the batch holding the record at <paramref name="at"/>, as the writer would have.</summary>
    internal static void Reframe(byte[] segment, int at)
    {
        var q = at;
        while (true)
        {
            Assert.Equal(ParseStatus.Ok, RecordFormat.TryParse(segment.AsSpan(q), out var record, out _));
            if (record.Type == RecordType.BatchEnd)
            {
                Assert.True(BatchFrame.TryDecode(segment.AsSpan(q + RecordFormat.HeaderSize, record.PayloadLength), out var start, out var durable, out _));
                BatchFrame.WriteFooter(segment.AsSpan((int)start, q + record.Size - (int)start), start, durable);
                return;
            }
            q += record.Size;
        }
    }

    private static void Flip(string path, long offset, byte mask)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[offset] ^= mask;
        File.WriteAllBytes(path, bytes);
    }

    [Theory]
    [InlineData(0)]   // length field
    [InlineData(4)]   // record type
    [InlineData(9)]   // index
    [InlineData(25)]  // checksum
    [InlineData(30)]  // payload
    public void Bit_flip_in_a_middle_segment_fails_open_naming_file_and_offset(int byteInRecord)
    {
        using var dir = new TempDir();
        var segments = Build(dir);
        Assert.True(segments.Count >= 3);
        var (path, records) = segments[1];
        var recordStart = records[records.Count / 2];
        Flip(path, recordStart + byteInRecord, 0x04);

        var e = Assert.Throws<WalCorruptException>(() => Fixtures.Open(dir.Path, segmentSize: 1024));
        Assert.Equal(path, e.FilePath);
        Assert.Equal(recordStart, e.Offset);
        Assert.Contains(Path.GetFileName(path), e.Message, StringComparison.Ordinal);
        Assert.Contains($"offset {recordStart}", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]   // length field, upper byte: the record claims to run past the end of the file
    [InlineData(12)]  // index
    [InlineData(40)]  // payload
    public void Bit_flip_before_the_tail_of_the_last_segment_is_corruption_not_a_torn_write(int byteInRecord)
    {
        using var dir = new TempDir();
        var segments = Build(dir, entries: 70);
        var (path, records) = segments[^1];
        Assert.True(records.Count >= 4, $"only {records.Count} records in the last segment");
        var recordStart = records[1];
        Flip(path, recordStart + byteInRecord, 0x40);

        var e = Assert.Throws<WalCorruptException>(() => Fixtures.Open(dir.Path, segmentSize: 1024));
        Assert.Equal(path, e.FilePath);
        Assert.Equal(recordStart, e.Offset);
    }

    [Fact]
    public void Missing_middle_segment_fails_open_naming_the_gap()
    {
        using var dir = new TempDir();
        var segments = Build(dir);
        File.Delete(segments[1].Path);
        var e = Assert.Throws<WalCorruptException>(() => Fixtures.Open(dir.Path, segmentSize: 1024));
        Assert.Equal(segments[2].Path, e.FilePath);
        Assert.Contains("missing segment", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_first_segment_without_a_covering_snapshot_fails_open()
    {
        using var dir = new TempDir();
        var segments = Build(dir);
        File.Delete(segments[0].Path);
        var e = Assert.Throws<WalCorruptException>(() => Fixtures.Open(dir.Path, segmentSize: 1024));
        Assert.Contains("missing", e.Message, StringComparison.Ordinal);
        Assert.Equal(segments[1].Path, e.FilePath);
    }

    [Fact]
    public void Index_gap_inside_a_segment_fails_open_with_its_offset()
    {
        using var dir = new TempDir();
        var segments = Build(dir);
        var (path, records) = segments[1];
        // Rewrite one entry record's index (with a valid checksum) so that it skips ahead.
        var bytes = File.ReadAllBytes(path);
        var at = records.First(r => bytes[r + 4] == (byte)RecordType.Entry && r > records[2]);
        var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
        var payload = bytes.AsSpan(at + RecordFormat.HeaderSize, length).ToArray();
        var index = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at + 8));
        RecordFormat.Write(bytes.AsSpan(at, RecordFormat.HeaderSize + length), RecordType.Entry, 0, index + 5, 1, payload);
        Reframe(bytes, at);
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<WalCorruptException>(() => Fixtures.Open(dir.Path, segmentSize: 1024));
        Assert.Equal(path, e.FilePath);
        Assert.Equal(at, e.Offset);
        Assert.Contains("gap", e.Message, StringComparison.Ordinal);
    }
}
