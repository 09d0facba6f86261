using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// A linearizable read is matched to its leader's answer by the context it sent. A member that restarted must not
/// reuse the contexts of its previous run, or an answer to an old request, still on its way, would complete a new read
/// with an older read index (issue 19, finding 8).
/// </summary>
public sealed class ReadContextTests
{
    [Fact]
    public async Task A_restarted_member_asks_for_read_indexes_with_contexts_its_previous_run_did_not_use()
    {
        await using var member = new LoneFollower();
        var first = await ReadIndexContextAsync(member);
        await member.RestartAsync();
        var second = await ReadIndexContextAsync(member);
        Assert.NotEqual(first, second);
    }

    private static async Task<string> ReadIndexContextAsync(LoneFollower member)
    {
        member.HeartbeatFromLeader(term: 2);
        var before = member.Sent.Length;
        using var cancel = new CancellationTokenSource();
        // Nobody answers: the read waits until it is cancelled, once its request to the leader has gone out (on a
        // loaded machine the member's loop may take a while to send it).
        var read = member.Node.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") }, cancel.Token);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!member.Sent.Skip(before).Any(IsAsk))
        {
            Assert.True(DateTime.UtcNow < deadline, "the member sent its leader no ReadIndex within 20 s");
            await Task.Delay(10);
        }
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => read);
        return Convert.ToHexString(member.Sent.Skip(before).First(IsAsk).Context.Span);

        bool IsAsk(Message m) => m.Type == MessageType.ReadIndex && m.To == member.LeaderId;
    }
}
