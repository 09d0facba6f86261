using Kvorum.Raft;

namespace Kvorum.Storage.Tests;

public class TornWriteTests
{
    private sealed record Point(int Segments, long LastSegmentLength, ulong LastIndex, HardState HardState);

    // zeroTail: the crash hit inside space reserved for the segment (StorageOptions.PreallocateSegments), so
    // after the bytes that reached the disk the file reads as zeros up to its reserved size.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Cutting_the_last_segment_at_every_byte_recovers_the_longest_valid_prefix(bool zeroTail)
    {
        const int segmentSize = 1024;
        using var source = new TempDir();
        var points = new List<Point>();
        // Written without reservation, so that each point's file length is where its records end.
        using (var s = Fixtures.Open(source.Path, segmentSize, preallocate: false))
        {
            ulong next = 1;
            // Fill until a new segment starts, then put a handful of records of both kinds into it.
            var after = -1;
            for (var i = 0; after < 0 || i < after; i++)
            {
                // One record per Save, so that every record boundary is a point the test knows the state at.
                if (i % 3 == 2)
                {
                    // A new term each time: a change of the commit index alone would wait for the next write.
                    s.Save(new HardState((ulong)i + 1, 1, next - 1), []);
                }
                else
                {
                    s.Save(null, Fixtures.Entries(next, 1, 1, length: 30 + (int)(next % 5)));
                    next++;
                }
                var segments = source.Segments();
                points.Add(new Point(segments.Length, new FileInfo(segments[^1]).Length, s.LastIndex, s.HardState));
                if (after < 0 && segments.Length == 3)
                    after = i + 6;
            }
        }
        var last = source.Segments()[^1];
        var full = File.ReadAllBytes(last);
        var segmentCount = points[^1].Segments;
        var inLast = points.Where(p => p.Segments == segmentCount).ToList();
        var beforeLast = points.Last(p => p.Segments == segmentCount - 1);
        Assert.True(inLast.Count >= 5);
        // The segment's header is written in one batch with the first records that went to it; until that batch
        // is whole, the segment holds nothing.
        var firstBatchEnd = (int)inLast[0].LastSegmentLength;

        // Every byte of the first batch (the crash hit while the segment was being started) and of the final ones.
        var tailStart = inLast[^5].LastSegmentLength;
        var cuts = Enumerable.Range(0, firstBatchEnd + 2).Concat(Enumerable.Range((int)tailStart, full.Length - (int)tailStart + 1)).Distinct();
        foreach (var cut in cuts)
        {
            using var copy = new TempDir();
            CopyDir(source.Path, copy.Path);
            var path = Path.Combine(copy.Wal, Path.GetFileName(last));
            var content = new byte[zeroTail ? Math.Max(segmentSize, cut) : cut];
            full.AsSpan(0, cut).CopyTo(content);
            File.WriteAllBytes(path, content);

            using var s = Fixtures.Open(copy.Path, segmentSize);
            // Over a zero tail, the bytes after the cut that were zeros anyway are as good as written.
            var zerosAfter = full.AsSpan(cut).IndexOfAnyExcept((byte)0);
            var reach = !zeroTail ? cut : zerosAfter < 0 ? full.Length : cut + zerosAfter;
            var expected = inLast.LastOrDefault(p => p.LastSegmentLength <= reach) ?? beforeLast;
            Assert.Equal(expected.LastIndex, s.LastIndex);
            Assert.Equal(expected.HardState, s.HardState);
            var validEnd = (int)(expected != beforeLast ? expected.LastSegmentLength : 0);
            // What is reported cut is the torn batch's bytes up to the last non-zero one (zeros after it read
            // the same as reserved space).
            // (or to the end of the records that are whole on their own, if later: see SegmentReader).
            var kept = content.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;
            for (var o = 0; o < kept && RecordFormat.TryParse(content.AsSpan(o), out var r, out _) == ParseStatus.Ok; o += r.Size)
                kept = Math.Max(kept, o + r.Size);
            var tornBytes = Math.Max(0, kept - validEnd);
            Assert.True(tornBytes == s.Recovery.TruncatedBytes, $"cut {cut}: reported {s.Recovery.TruncatedBytes} bytes cut, expected {tornBytes}");
            foreach (var e in Fixtures.All(s))
                Assert.Equal(Fixtures.Payload(e.Index, 30 + (int)(e.Index % 5)), e.Data.ToArray());
            if (reach < firstBatchEnd)
            {
                Assert.False(File.Exists(path), $"cut {cut}: a segment without a whole first batch should be removed");
            }
            else
            {
                // The valid records stay, and nothing but zeros follows them.
                var after = File.ReadAllBytes(path);
                Assert.True(after.AsSpan(0, validEnd).SequenceEqual(full.AsSpan(0, validEnd)), $"cut {cut}");
                Assert.True(after.AsSpan(validEnd).IndexOfAnyExcept((byte)0) < 0, $"cut {cut}: non-zero bytes after the valid records");
            }

            // The recovered log takes new appends.
            if (cut % 7 == 0)
                s.Save(null, Fixtures.Entries(s.LastIndex + 1, 1, 2));
        }
    }

    internal static void CopyDir(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file) != DataDirLock.FileName)
                File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }
}
