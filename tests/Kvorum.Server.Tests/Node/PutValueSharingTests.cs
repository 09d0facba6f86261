using System.Runtime.InteropServices;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

public sealed class PutValueSharingTests
{
    private static byte[] Encode(string key, string value, long lease = 0) => new InternalRequest
    {
        Id = 42,
        Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value), Lease = lease, PrevKv = true },
    }.ToByteArray();

    private static PutRequest Apply(ReadOnlyMemory<byte> payload)
    {
        var request = InternalRequest.Parser.ParseFrom(payload.Span);
        PutValueSharing.ShareValue(request.Put, payload);
        return request.Put;
    }

    private static byte[]? ArrayOf(ByteString bytes) =>
        MemoryMarshal.TryGetArray(bytes.Memory, out var segment) ? segment.Array : null;

    [Fact]
    public void A_put_of_a_whole_entry_array_keeps_its_value_inside_that_array()
    {
        var payload = Encode("/bench/key-00042", new string('v', 256), lease: 7);

        var put = Apply(payload);

        Assert.Same(payload, ArrayOf(put.Value));
        Assert.Equal(new string('v', 256), put.Value.ToStringUtf8());
        Assert.Equal("/bench/key-00042", put.Key.ToStringUtf8());
        Assert.Equal(7, put.Lease);
        Assert.True(put.PrevKv);
    }

    [Fact]
    public void A_payload_that_is_a_slice_of_a_larger_buffer_is_copied_so_the_buffer_is_not_kept()
    {
        var payload = Encode("k", "value");
        var buffer = new byte[payload.Length + 100];
        payload.CopyTo(buffer, 50);

        var put = Apply(buffer.AsMemory(50, payload.Length));

        Assert.NotSame(buffer, ArrayOf(put.Value));
        Assert.Equal("value", put.Value.ToStringUtf8());
    }

    [Fact]
    public void When_the_put_field_repeats_the_value_shared_is_the_last_one_as_protobuf_parses_it()
    {
        // Protobuf merges repeated message fields and keeps the last value of a singular field.
        var payload = Encode("k", "first").Concat(Encode("k", "second")).ToArray();

        var put = Apply(payload);

        Assert.Equal("second", put.Value.ToStringUtf8());
        Assert.Same(payload, ArrayOf(put.Value));
    }

    [Fact]
    public void An_empty_value_stays_empty()
    {
        var payload = Encode("k", "");

        var put = Apply(payload);

        Assert.True(put.Value.IsEmpty);
    }

    [Theory]
    [InlineData(new byte[] { 0x12 })]                         // put field, length missing
    [InlineData(new byte[] { 0x12, 0x05, 0x12, 0x01 })]       // put longer than what follows
    [InlineData(new byte[] { 0x12, 0x02, 0x12, 0x09 })]       // value longer than the put
    [InlineData(new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })] // varint too long
    [InlineData(new byte[] { 0x0B })]                         // group start: not used by these messages
    public void A_malformed_encoding_is_not_walked(byte[] bytes)
    {
        Assert.False(PutValueSharing.TryFindValue(bytes, out _, out _));
    }

    [Fact]
    public void The_walker_finds_the_value_among_fields_it_does_not_know()
    {
        var payload = Encode("key", "value");
        // An unknown fixed64 field (tag 15, wire type 1) and an unknown fixed32 field (tag 16, wire type 5) first.
        byte[] unknown = [0x79, 1, 2, 3, 4, 5, 6, 7, 8, 0x85, 0x01, 1, 2, 3, 4];
        var withUnknown = unknown.Concat(payload).ToArray();

        Assert.True(PutValueSharing.TryFindValue(withUnknown, out var offset, out var length));
        Assert.Equal("value", System.Text.Encoding.UTF8.GetString(withUnknown, offset, length));
    }
}
