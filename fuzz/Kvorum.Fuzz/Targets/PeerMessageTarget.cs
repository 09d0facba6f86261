using Google.Protobuf;
using Kvorum.Server.Transport;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Fuzz.Targets;

/// <summary>
/// What a peer sends on the Raft stream or with a snapshot (<see cref="Wire.RaftBatch"/>, <see cref="Wire.SnapshotChunk"/>,
/// then <see cref="MessageCodec"/>): the first byte picks which; any bytes decode, or are refused with
/// <see cref="InvalidProtocolBufferException"/> (the parse) or <see cref="FormatException"/> (the codec). A decoded
/// message encodes to a wire form that decodes to the same message.
/// </summary>
internal static class PeerMessageTarget
{
    /// <summary>Checks <paramref name="input"/>.</summary>
    public static void Run(byte[] input)
    {
        if (input.Length == 0)
            return;
        try
        {
            var body = input.AsSpan(1);
            if (input[0] % 2 == 0)
            {
                foreach (var wire in Wire.RaftBatch.Parser.ParseFrom(body).Messages)
                    CheckMessage(wire);
            }
            else if (Wire.SnapshotChunk.Parser.ParseFrom(body).Message is { } wire)
            {
                CheckMessage(wire);
            }
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or FormatException)
        {
            // The documented refusals.
        }
    }

    private static void CheckMessage(Wire.RaftMessage wire)
    {
        var once = MessageCodec.Encode(MessageCodec.Decode(wire)).ToByteArray();
        var twice = MessageCodec.Encode(MessageCodec.Decode(Wire.RaftMessage.Parser.ParseFrom(once))).ToByteArray();
        DecoderPropertyException.ThrowIfDifferent(once, twice, "Raft message");
    }

    /// <summary>Valid batches and chunks.</summary>
    public static IReadOnlyList<byte[]> Seeds()
    {
        var append = new Wire.RaftMessage
        {
            Type = Wire.MessageType.Append,
            From = 1,
            To = 2,
            Term = 3,
            LogTerm = 3,
            Index = 9,
            Commit = 8,
            Context = ByteString.CopyFromUtf8("ctx"),
        };
        append.Entries.Add(new Wire.Entry { Index = 10, Term = 3, Data = ByteString.CopyFromUtf8("put") });
        append.Entries.Add(new Wire.Entry { Index = 11, Term = 3, Type = Wire.EntryType.ConfChange, Data = ByteString.CopyFrom(0, 2, 0, 0, 0, 0, 0, 0, 0) });
        var heartbeat = new Wire.RaftMessage { Type = Wire.MessageType.Heartbeat, From = 1, To = 2, Term = 3, Commit = 8 };
        var batch = new Wire.RaftBatch { ClusterId = 42, From = 1 };
        batch.Messages.Add(append);
        batch.Messages.Add(heartbeat);
        var snapshot = new Wire.RaftMessage
        {
            Type = Wire.MessageType.Snapshot,
            From = 1,
            To = 2,
            Term = 3,
            Snapshot = new Wire.SnapshotMetadata { Index = 20, Term = 3, Voters = { 1, 2 }, Learners = { 3 } },
        };
        var chunk = new Wire.SnapshotChunk { ClusterId = 42, Message = snapshot, Data = ByteString.CopyFromUtf8("KVNS"), Last = true };
        return [[0, .. batch.ToByteArray()], [1, .. chunk.ToByteArray()], [0, .. new Wire.RaftBatch { ClusterId = 42, From = 3 }.ToByteArray()]];
    }
}
