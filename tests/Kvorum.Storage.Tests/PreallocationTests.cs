namespace Kvorum.Storage.Tests;

/// <summary>
/// Segments reserve their space when they are created (<see cref="StorageOptions.PreallocateSegments"/>):
/// the last segment's file is longer than its records, sealed segments are cut back to their records, and a
/// log reopened over a reserved tail reads every record and goes on appending after the last one.
/// </summary>
public class PreallocationTests
{
    private const int SegmentSize = 4096;

    [SkippableFact]
    public void The_last_segment_is_reserved_sealed_ones_are_cut_to_their_records_and_reopening_continues_after_the_last_record()
    {
        // posix_fallocate is what reserves the space; ext4, xfs and tmpfs support it.
        Skip.IfNot(OperatingSystem.IsLinux(), "segments are reserved with posix_fallocate, on Linux only");
        using var dir = new TempDir();
        ulong next = 1;
        using (var s = Fixtures.Open(dir.Path, SegmentSize))
        {
            for (; next <= 100; next++)
                s.Save(null, Fixtures.Entries(next, 1, 1, length: 100));
        }
        AssertSegmentShapes(dir);

        // Twice: the first reopen continues inside the reserved tail, the second reads what it wrote there.
        for (var round = 0; round < 2; round++)
        {
            using var s = Fixtures.Open(dir.Path, SegmentSize);
            Assert.Equal(0, s.Recovery.TruncatedBytes);
            Assert.Equal(next - 1, s.LastIndex);
            foreach (var e in Fixtures.All(s))
                Assert.Equal(Fixtures.Payload(e.Index, 100), e.Data.ToArray());
            s.Save(null, Fixtures.Entries(next, 5, 1, length: 100));
            next += 5;
        }
        using (var s = Fixtures.Open(dir.Path, SegmentSize))
        {
            Assert.Equal(next - 1, s.LastIndex);
            Assert.Equal(Enumerable.Range(1, (int)next - 1).Select(i => (ulong)i), Fixtures.All(s).Select(e => e.Index));
        }
        AssertSegmentShapes(dir);
    }

    [Fact]
    public void Without_reservation_every_segment_is_exactly_its_records()
    {
        using var dir = new TempDir();
        using (var s = Fixtures.Open(dir.Path, SegmentSize, preallocate: false))
        {
            for (ulong i = 1; i <= 100; i++)
                s.Save(null, Fixtures.Entries(i, 1, 1, length: 100));
        }
        foreach (var path in dir.Segments())
            Assert.Equal(RecordsEnd(path), new FileInfo(path).Length);
    }

    [SkippableFact]
    public void A_reader_does_not_keep_the_reserved_zeros_in_memory()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "segments are reserved with posix_fallocate, on Linux only");
        using var dir = new TempDir();
        using (var s = Fixtures.Open(dir.Path))
            s.Save(null, Fixtures.Entries(1, 3, 1));
        var path = Assert.Single(dir.Segments());
        Assert.Equal(StorageOptions.DefaultSegmentSize, new FileInfo(path).Length);
        var reader = new SegmentReader(path);
        Assert.Equal(RecordsEnd(path), reader.Content.Length);
        Assert.True(reader.Content.Length < 1024, $"reader holds {reader.Content.Length} bytes for 3 small entries");
    }

    private static void AssertSegmentShapes(TempDir dir)
    {
        var segments = dir.Segments();
        Assert.True(segments.Length >= 3, $"only {segments.Length} segments");
        foreach (var path in segments[..^1])
            Assert.Equal(RecordsEnd(path), new FileInfo(path).Length);
        var last = segments[^1];
        Assert.Equal(SegmentSize, new FileInfo(last).Length);
        Assert.True(RecordsEnd(last) < SegmentSize, "the last segment should have reserved space left");
    }

    /// <summary>Where the valid records of a segment file end.</summary>
    private static long RecordsEnd(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var offset = 0;
        while (offset < bytes.Length && RecordFormat.TryParse(bytes.AsSpan(offset), out var record, out _) == ParseStatus.Ok)
            offset += record.Size;
        return offset;
    }
}
