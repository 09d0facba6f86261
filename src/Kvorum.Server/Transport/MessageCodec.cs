using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Server.Node;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Server.Transport;

/// <summary>Converts Raft messages to and from their wire form (<c>Transport/Wire/raft.proto</c>).</summary>
internal static class MessageCodec
{
    /// <summary>
    /// Encodes <paramref name="message"/>. Copies the entry array (a slice of a buffer the core reuses after
    /// <c>Advance</c>) and the context before returning; entry payloads are wrapped, not copied, because the
    /// core never mutates a payload once it is in the log.
    /// </summary>
    public static Wire.RaftMessage Encode(in Message message)
    {
        var wire = new Wire.RaftMessage
        {
            Type = (Wire.MessageType)(int)message.Type,
            From = message.From,
            To = message.To,
            Term = message.Term,
            LogTerm = message.LogTerm,
            Index = message.Index,
            Commit = message.Commit,
            Reject = message.Reject,
            RejectHint = message.RejectHint,
            Transfer = message.Transfer,
        };
        if (!message.Context.IsEmpty)
            wire.Context = ByteString.CopyFrom(message.Context.Span);
        foreach (ref readonly var entry in message.Entries.Span)
        {
            wire.Entries.Add(new Wire.Entry
            {
                Index = entry.Index,
                Term = entry.Term,
                Type = (Wire.EntryType)(int)entry.Type,
                Data = entry.Data.IsEmpty ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(entry.Data),
            });
        }
        if (message.Snapshot is { } snapshot)
        {
            var metadata = new Wire.SnapshotMetadata { Index = snapshot.Index, Term = snapshot.Term };
            foreach (var voter in snapshot.ConfState.Voters)
                metadata.Voters.Add(voter);
            foreach (var learner in snapshot.ConfState.Learners)
                metadata.Learners.Add(learner);
            wire.Snapshot = metadata;
        }
        return wire;
    }

    /// <summary>
    /// Decodes <paramref name="wire"/>. Entry payloads are copied into <see cref="EntryPayloads"/> arrays; the context
    /// stays a view over the parsed <see cref="ByteString"/> (which owns its bytes).
    /// </summary>
    /// <exception cref="FormatException">The message type is unknown or the configuration is invalid.</exception>
    public static Message Decode(Wire.RaftMessage wire)
    {
        ArgumentNullException.ThrowIfNull(wire);
        var type = (MessageType)(int)wire.Type;
        if (type is < MessageType.Append or > MessageType.Propose)
            throw new FormatException($"unknown Raft message type {(int)wire.Type}");

        var entries = wire.Entries.Count == 0 ? [] : new Entry[wire.Entries.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = wire.Entries[i];
            var entryType = (EntryType)(int)entry.Type;
            if (entryType is not (EntryType.Normal or EntryType.ConfChange))
                throw new FormatException($"unknown entry type {(int)entry.Type} at index {entry.Index}");
            // Copied once more, out of the array the parser made, into one that the collector never moves: the
            // entry stays in the log, and a put's value in the store, long after this message.
            entries[i] = new Entry(entry.Index, entry.Term, entryType, EntryPayloads.Copy(entry.Data.Span));
        }

        return new Message
        {
            Type = type,
            From = wire.From,
            To = wire.To,
            Term = wire.Term,
            LogTerm = wire.LogTerm,
            Index = wire.Index,
            Entries = entries,
            Commit = wire.Commit,
            Reject = wire.Reject,
            RejectHint = wire.RejectHint,
            Transfer = wire.Transfer,
            Context = wire.Context.Memory,
            Snapshot = wire.Snapshot is null ? null : DecodeSnapshot(wire.Snapshot),
        };
    }

    private static SnapshotMetadata DecodeSnapshot(Wire.SnapshotMetadata wire)
    {
        try
        {
            return new SnapshotMetadata(wire.Index, wire.Term, new ConfState(wire.Voters, wire.Learners));
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"invalid snapshot configuration: {e.Message}", e);
        }
    }
}
