using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Server.Transport;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Server.Tests.Transport;

public class MessageCodecTests
{
    public static TheoryData<MessageType> AllTypes() => [.. Enum.GetValues<MessageType>()];

    /// <summary>A message of <paramref name="type"/> with every field set to something distinct.</summary>
    internal static Message Full(MessageType type) => new()
    {
        Type = type,
        From = 0x1111_2222_3333_4444,
        To = ulong.MaxValue,
        Term = 7,
        LogTerm = 6,
        Index = 1_000_000_000_001,
        Entries = new Entry[]
        {
            new(1_000_000_000_002, 6, Encoding.UTF8.GetBytes("put a=1")),
            new(1_000_000_000_003, 7, ReadOnlyMemory<byte>.Empty),
            new(1_000_000_000_004, 7, EntryType.ConfChange, new byte[] { 0, 1, 2, 255 }),
        },
        Commit = 999,
        Reject = true,
        RejectHint = 42,
        Transfer = true,
        Context = new byte[] { 9, 8, 7, 6, 5, 4, 3, 2 },
        Snapshot = new SnapshotMetadata(500, 5, new ConfState([1, 2, 3], [4, 5])),
    };

    private static Message ThroughBytes(in Message message) =>
        MessageCodec.Decode(Wire.RaftMessage.Parser.ParseFrom(MessageCodec.Encode(message).ToByteArray()));

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Every_type_round_trips_with_every_field(MessageType type)
    {
        var original = Full(type);

        MessageAssert.Same(original, ThroughBytes(original));
    }

    [Fact]
    public void An_empty_message_stays_empty_and_without_snapshot()
    {
        var original = new Message { Type = MessageType.Heartbeat };

        var decoded = ThroughBytes(original);

        MessageAssert.Same(original, decoded);
        Assert.Null(decoded.Snapshot);
        Assert.True(decoded.Entries.IsEmpty);
        Assert.True(decoded.Context.IsEmpty);
    }

    [Fact]
    public void Empty_snapshot_metadata_is_kept_distinct_from_none()
    {
        var original = new Message { Type = MessageType.Snapshot, Snapshot = SnapshotMetadata.Empty };

        Assert.Equal(SnapshotMetadata.Empty, ThroughBytes(original).Snapshot);
    }

    [Fact]
    public void Encoding_copies_the_entry_slice_the_core_reuses()
    {
        var buffer = new Entry[] { new(5, 2, new byte[] { 1, 2, 3 }), new(6, 2, new byte[] { 4 }) };
        var message = new Message { Type = MessageType.Append, Entries = buffer.AsMemory(0, 2) };

        var wire = MessageCodec.Encode(message);
        buffer[0] = new Entry(99, 99, new byte[] { 9 }); // the core reuses its arena after Advance
        buffer[1] = default;

        Assert.Equal([5UL, 6UL], wire.Entries.Select(e => e.Index));
        Assert.Equal(new byte[] { 1, 2, 3 }, wire.Entries[0].Data.ToByteArray());
    }

    [Fact]
    public void Encoding_wraps_payloads_without_copying()
    {
        byte[] payload = [1, 2, 3, 4, 5, 6];
        var message = new Message { Type = MessageType.Append, Entries = new Entry[] { new(1, 1, payload.AsMemory(2, 3)) } };

        var wire = MessageCodec.Encode(message);

        Assert.True(MemoryMarshal.TryGetArray(wire.Entries[0].Data.Memory, out var segment));
        Assert.Same(payload, segment.Array);
        Assert.Equal((2, 3), (segment.Offset, segment.Count));
    }

    [Fact]
    public void Decoding_copies_payloads_into_whole_arrays_the_collector_does_not_move()
    {
        var wire = Wire.RaftMessage.Parser.ParseFrom(MessageCodec.Encode(Full(MessageType.Append)).ToByteArray());

        var decoded = MessageCodec.Decode(wire);

        Assert.True(MemoryMarshal.TryGetArray(wire.Entries[0].Data.Memory, out var parsed));
        Assert.True(MemoryMarshal.TryGetArray(decoded.Entries.Span[0].Data, out var payload));
        Assert.NotSame(parsed.Array, payload.Array);
        Assert.Equal(parsed.AsSpan().ToArray(), payload.AsSpan().ToArray());
        // A whole array of its own (PutValueSharing shares only such payloads), allocated on the pinned heap, which
        // reports generation 2 from the start; a fresh ordinary array is in generation 0.
        Assert.Equal((0, payload.Array!.Length), (payload.Offset, payload.Count));
        Assert.Equal(2, GC.GetGeneration(payload.Array));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    public void Unknown_message_types_are_rejected(int type)
    {
        var wire = new Wire.RaftMessage { Type = (Wire.MessageType)type };

        Assert.Throws<FormatException>(() => MessageCodec.Decode(wire));
    }

    [Fact]
    public void Unknown_entry_types_are_rejected()
    {
        var wire = new Wire.RaftMessage { Type = Wire.MessageType.Append };
        wire.Entries.Add(new Wire.Entry { Index = 1, Type = (Wire.EntryType)7 });

        Assert.Throws<FormatException>(() => MessageCodec.Decode(wire));
    }

    [Fact]
    public void An_invalid_configuration_is_rejected()
    {
        var wire = new Wire.RaftMessage { Type = Wire.MessageType.Snapshot, Snapshot = new Wire.SnapshotMetadata { Index = 1 } };
        wire.Snapshot.Voters.Add(3);
        wire.Snapshot.Learners.Add(3);

        Assert.Throws<FormatException>(() => MessageCodec.Decode(wire));
    }

    [Fact]
    public void Wire_enums_match_the_core_enums()
    {
        foreach (var type in Enum.GetValues<MessageType>())
            Assert.Equal(type.ToString(), ((Wire.MessageType)(int)type).ToString());
        foreach (var type in Enum.GetValues<EntryType>())
            Assert.Equal(type.ToString(), ((Wire.EntryType)(int)type).ToString());
    }
}
