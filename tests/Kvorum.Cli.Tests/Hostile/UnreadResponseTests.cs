using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Xunit.Abstractions;

namespace Kvorum.Cli.Tests.Hostile;

/// <summary>
/// Clients that ask and never read the answers, so the member's writes to them stop at HTTP/2 flow control: a watch
/// on a key that is written all the time, and full-range reads of a keyspace of several MiB. The member keeps what
/// each watch may hold bounded, holds the large answers of all of them within its budget of unread answers, and goes
/// on serving others.
/// </summary>
[Collection(HostileMemberGroup.Name)]
public sealed class UnreadResponseTests(HostileMember member, ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    /// <summary>Readers of the whole keyspace.</summary>
    private const int Readers = 40;

    [Fact]
    public async Task A_watch_on_a_hot_key_that_never_reads_holds_a_bounded_backlog_while_puts_go_on()
    {
        using var watcher = await RawHttp2Connection.OpenAsync(member.ClientPort);
        var create = new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8("hot") } };
        await watcher.CallAsync("/etcdserverpb.Watch/Watch", create, endStream: false);
        var before = member.ResidentBytes();

        // 8,000 puts of 8 KiB: 64 MiB of events, of which the watcher's windows take 64 KiB.
        var value = ByteString.CopyFrom(new byte[8192]);
        var kv = member.Kv;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            for (var i = 0; i < 500; i++)
                await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("hot"), Value = value }, deadline: DateTime.UtcNow + Bound);
        }));
        await member.ServesAsync(Bound);
        var after = member.ResidentBytes();
        output.WriteLine($"RSS {before >> 20} MiB before 64 MiB of unread events, {after >> 20} MiB after");
        Assert.True(member.Running);
        // The store keeps the 64 MiB of history; the watcher's backlog adds at most its bound on top.
        Assert.True(after - before < 128L << 20, $"64 MiB of history and an unread watch of it grew the member by {(after - before) >> 20} MiB");
    }

    [Fact]
    public async Task Full_range_reads_that_are_never_read_hold_no_more_than_the_budget_while_others_are_served()
    {
        await member.WriteBigKeysAsync(Bound);
        var everything = new RangeRequest { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0) };
        // A client that takes answers of any size, as etcd's do.
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{member.ClientPort}", new GrpcChannelOptions { MaxReceiveMessageSize = null });
        var reader = new KV.KVClient(channel);
        var before = member.ResidentBytes();
        var readers = new List<RawHttp2Connection>();
        try
        {
            // Three answers fill the budget; the other readers' answers wait for room (5 s: they send no deadline).
            for (var r = 0; r < Readers; r++)
            {
                var unread = await RawHttp2Connection.OpenAsync(member.ClientPort);
                readers.Add(unread);
                await unread.CallAsync("/etcdserverpb.KV/Range", everything, endStream: true);
            }
            await Task.Delay(2000);
            await member.ServesAsync(Bound);
            var during = member.ResidentBytes();
            output.WriteLine($"RSS {before >> 20} MiB before {Readers} unread 8 MiB ranges, {during >> 20} MiB with them");
            Assert.True(member.Running);
            // Without the budget each reader holds its answer's encoding: 40 x 8 MiB, over three times the bound.
            Assert.True(during - before < HostileMember.UnreadBudgetBytes + (64L << 20), $"{Readers} unread ranges of 8 MiB grew the member by {(during - before) >> 20} MiB");

            // A well-behaved large read finds no room before its deadline: refused with what etcd's clients retry.
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await reader.RangeAsync(everything, deadline: DateTime.UtcNow.AddSeconds(2)));
            output.WriteLine($"a full-range read while the budget is used up: {refused.StatusCode} \"{refused.Status.Detail}\"");
            Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
            Assert.Contains("too many large answers are waiting", refused.Status.Detail, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var r in readers)
                r.Dispose();
        }
        // Their streams gone, the readers' answers give their room back.
        var again = await reader.RangeAsync(everything, deadline: DateTime.UtcNow + 2 * Bound);
        Assert.True(again.Kvs.Count >= 64 * 64);
        await member.ServesAsync(Bound);
    }
}
