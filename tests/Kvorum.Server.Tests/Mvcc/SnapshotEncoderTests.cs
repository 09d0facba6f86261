using System.Text;
using Kvorum.Server.Mvcc;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>The snapshot's buffered encoder writes exactly what a <see cref="BinaryWriter"/> writes, across buffer boundaries.</summary>
public class SnapshotEncoderTests
{
    [Fact]
    public void Writes_the_same_bytes_as_a_BinaryWriter()
    {
        var random = new Random(3);
        using var expected = new MemoryStream();
        using var actual = new MemoryStream();
        using (var reference = new BinaryWriter(expected, Encoding.UTF8, leaveOpen: true))
        using (var encoder = new SnapshotEncoder(actual))
        {
            for (var i = 0; i < 20_000; i++)
            {
                switch (random.Next(5))
                {
                    case 0:
                        var b = (byte)random.Next(256);
                        reference.Write(b);
                        encoder.WriteByte(b);
                        break;
                    case 1:
                        var l = random.NextInt64(long.MinValue, long.MaxValue);
                        reference.Write(l);
                        encoder.WriteInt64(l);
                        break;
                    case 2:
                        var n = random.Next(4) switch { 0 => random.Next(128), 1 => random.Next(1 << 14, 1 << 21), 2 => int.MaxValue, _ => random.Next() };
                        reference.Write7BitEncodedInt(n);
                        encoder.Write7BitEncoded(n);
                        break;
                    default:
                        // Mostly small values, now and then one larger than the encoder's buffer.
                        var bytes = new byte[random.Next(50) == 0 ? random.Next(60_000, 200_000) : random.Next(0, 600)];
                        random.NextBytes(bytes);
                        reference.Write7BitEncodedInt(bytes.Length);
                        reference.Write(bytes);
                        encoder.WriteBytes(bytes);
                        break;
                }
            }
            encoder.Flush();
        }
        Assert.True(expected.Length > 1_000_000, "enough bytes to cross many buffer boundaries");
        Assert.Equal(expected.ToArray(), actual.ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    public void Fields_that_end_the_buffer_exactly_or_cross_it_are_whole(int free)
    {
        using var expected = new MemoryStream();
        using var actual = new MemoryStream();
        var filler = new byte[SnapshotEncoder.BufferSize - free];
        using (var reference = new BinaryWriter(expected, Encoding.UTF8, leaveOpen: true))
        using (var encoder = new SnapshotEncoder(actual))
        {
            foreach (var field in new[] { 0, 1, 2 })
            {
                reference.Write(filler);
                encoder.WriteRaw(filler);
                switch (field)
                {
                    case 0:
                        reference.Write(-2L);
                        encoder.WriteInt64(-2L);
                        break;
                    case 1:
                        reference.Write7BitEncodedInt(int.MaxValue);
                        encoder.Write7BitEncoded(int.MaxValue);
                        break;
                    default:
                        reference.Write((byte)9);
                        encoder.WriteByte(9);
                        break;
                }
            }
            encoder.Flush();
        }
        Assert.Equal(expected.ToArray(), actual.ToArray());
    }
}
