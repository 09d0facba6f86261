using System.Text;

namespace Kvorum.Storage.Tests;

public class RecordFormatTests
{
    [Fact]
    public void Crc32C_matches_the_standard_check_value()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Record_round_trips_and_any_flipped_bit_is_detected()
    {
        var payload = Encoding.ASCII.GetBytes("hello, wal");
        var bytes = new byte[RecordFormat.RecordSize(payload.Length)];
        RecordFormat.Write(bytes, RecordType.Entry, 1, 42, 7, payload);

        Assert.Equal(ParseStatus.Ok, RecordFormat.TryParse(bytes, out var r, out _));
        Assert.Equal((RecordType.Entry, (byte)1, 42ul, 7ul), (r.Type, r.EntryType, r.Index, r.Term));
        Assert.Equal(payload, bytes.AsSpan(r.PayloadOffset, r.PayloadLength).ToArray());

        for (var bit = 0; bit < bytes.Length * 8; bit++)
        {
            var copy = (byte[])bytes.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.NotEqual(ParseStatus.Ok, RecordFormat.TryParse(copy, out _, out _));
        }
        for (var cut = 0; cut < bytes.Length; cut++)
            Assert.Equal(ParseStatus.Incomplete, RecordFormat.TryParse(bytes.AsSpan(0, cut), out _, out _));
    }

    [Fact]
    public void Segment_names_round_trip_and_sort_by_sequence()
    {
        var name = SegmentName.Format(3, 0x1234);
        Assert.Equal("0000000000000003-0000000000001234.wal", name);
        Assert.True(SegmentName.TryParse(name, out var seq, out var first));
        Assert.Equal((3ul, 0x1234ul), (seq, first));
        Assert.False(SegmentName.TryParse("junk.wal", out _, out _));
    }
}
