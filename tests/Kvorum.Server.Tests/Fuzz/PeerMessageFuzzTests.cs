using Google.Protobuf;
using Kvorum.Fuzz.Targets;
using Kvorum.Server.Transport;
using Kvorum.Tests.Fuzzing;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Server.Tests.Fuzz;

/// <summary>Random and damaged peer batches and snapshot chunks (<see cref="PeerMessageTarget"/>).</summary>
public class PeerMessageFuzzTests
{
    [Fact]
    public void Random_and_damaged_peer_messages_decode_or_are_refused_as_malformed()
    {
        FuzzRun.Check(PeerMessageTarget.Seeds(), PeerMessageTarget.Run, GetType());
    }

    [Fact]
    public void Every_valid_message_decodes_and_encodes_back_to_its_bytes()
    {
        var seeds = PeerMessageTarget.Seeds();
        var messages = Wire.RaftBatch.Parser.ParseFrom(seeds[0].AsSpan(1)).Messages
            .Append(Wire.SnapshotChunk.Parser.ParseFrom(seeds[1].AsSpan(1)).Message);
        foreach (var wire in messages)
            Assert.Equal(wire.ToByteArray(), MessageCodec.Encode(MessageCodec.Decode(wire)).ToByteArray());
    }
}
