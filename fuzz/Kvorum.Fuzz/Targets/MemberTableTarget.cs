using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Raft;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Fuzz.Targets;

/// <summary>
/// The committed entries that change the member table (<see cref="MemberTable"/>, <see cref="ConfChange.Decode"/>,
/// <see cref="InternalRequest"/> attributes), replayed as at a start: the first byte says whether the rest is a
/// conf change entry or a normal one. Any payload applies, or is refused with <see cref="FormatException"/> or
/// <see cref="InvalidProtocolBufferException"/>, and the table's peers can be listed afterwards.
/// </summary>
internal static class MemberTableTarget
{
    /// <summary>Checks <paramref name="input"/>.</summary>
    public static void Run(byte[] input)
    {
        if (input.Length == 0)
            return;
        var table = new MemberTable();
        table.Upsert(new Member { ID = 1, Name = "one", PeerURLs = { "http://127.0.0.1:2380" } });
        try
        {
            var entry = new Entry(2, 1, input[0] % 2 == 0 ? EntryType.ConfChange : EntryType.Normal, input.AsMemory(1));
            RecordedMembership.Replay(table, entry);
            _ = table.Peers(0).ToList();
        }
        catch (Exception e) when (e is FormatException or InvalidProtocolBufferException)
        {
            // The documented refusals (a peer URL that is not one is a UriFormatException, a FormatException).
        }
    }

    /// <summary>A member added, promoted and removed; attributes published.</summary>
    public static IReadOnlyList<byte[]> Seeds()
    {
        var member = new Member { Name = "two", PeerURLs = { "http://127.0.0.1:2390" } }.ToByteArray();
        var attributes = new InternalRequest
        {
            Id = 5,
            Attributes = new MemberAttributes { Id = 1, Name = "one", ClientUrls = { "http://127.0.0.1:2379" }, PeerUrls = { "http://10.0.0.1:2380" } },
        };
        return
        [
            [0, .. new ConfChange(ConfChangeType.AddVoter, 2, member).Encode()],
            [0, .. new ConfChange(ConfChangeType.AddLearner, 3, member).Encode()],
            [0, .. new ConfChange(ConfChangeType.RemoveNode, 1, ReadOnlyMemory<byte>.Empty).Encode()],
            [1, .. attributes.ToByteArray()],
        ];
    }
}
