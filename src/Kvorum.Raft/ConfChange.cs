using System.Buffers.Binary;

namespace Kvorum.Raft;

/// <summary>The kind of a single-server membership change (thesis §4.1).</summary>
public enum ConfChangeType : byte
{
    /// <summary>Add a voter, or promote a learner to voter.</summary>
    AddVoter = 0,

    /// <summary>Add a non-voting member that catches up before promotion (thesis §4.2.1).</summary>
    AddLearner = 1,

    /// <summary>Remove a voter or learner; may be the leader itself (thesis §4.2.2).</summary>
    RemoveNode = 2,
}

/// <summary>
/// A single-server membership change, carried in an <see cref="EntryType.ConfChange"/> entry.
/// <see cref="Context"/> is opaque to the core (the server keeps the member's URLs there).
/// </summary>
public readonly record struct ConfChange(ConfChangeType Type, ulong NodeId, ReadOnlyMemory<byte> Context = default)
{
    /// <summary>Encodes the change as an entry payload: type (1 byte), node id (8 bytes LE), context.</summary>
    public byte[] Encode()
    {
        var buffer = new byte[9 + Context.Length];
        buffer[0] = (byte)Type;
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(1), NodeId);
        Context.Span.CopyTo(buffer.AsSpan(9));
        return buffer;
    }

    /// <summary>Decodes a payload written by <see cref="Encode"/>.</summary>
    /// <exception cref="FormatException">The payload is too short or names an unknown type.</exception>
    public static ConfChange Decode(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        if (span.Length < 9 || span[0] > (byte)ConfChangeType.RemoveNode)
            throw new FormatException("malformed conf change entry");
        return new ConfChange((ConfChangeType)span[0], BinaryPrimitives.ReadUInt64LittleEndian(span[1..]), data[9..]);
    }
}
