using Google.Protobuf;
using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Api;
using Kvorum.Server.Http2;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;
using Kvorum.Server.Tests.Node;

namespace Kvorum.Server.Tests.Api;

/// <summary>
/// Large reads that wait for room in the member's budget of unread answers (issue 23): they keep no built answer while
/// they wait, and once let in they answer what they would have answered at once, with the same header, however the
/// store changed meanwhile; a compaction past their revision meanwhile refuses them as the budget does.
/// </summary>
public sealed class KvServiceUnreadAnswerTests
{
    // 160 keys of 1 KiB: a full-range answer of about 170 KiB, large to the budget, which holds one of them.
    private const int Keys = 160;
    private const long BudgetBytes = 256 << 10;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static readonly RangeRequest Everything = new() { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0) };

    [Fact]
    public async Task A_large_read_waiting_for_room_keeps_no_reference_to_the_answer_it_built()
    {
        await using var member = await MemberAsync();
        var (_, budget, kv) = member.Parts;
        Assert.True(budget.TryTake(budget.Bytes));

        // The first answer, seen only through a weak reference; the read builds it and starts waiting.
        var built = new WeakReference<RangeResponse>(null!);
        var builds = 0;
        var waiting = kv.WithinBudget(
            Everything,
            async (n, r, c) =>
            {
                var answer = await n.RangeAsync(r, c.CancellationToken);
                built.SetTarget(answer);
                Interlocked.Increment(ref builds);
                return answer;
            },
            static (n, r, revision, cancellation) => n.RangeAgainAsync(r, revision, cancellation),
            new TestCallContext());
        await WaitUntilAsync(() => budget.Waiting == 1);
        Assert.Equal(1, builds);

        Assert.True(await CollectedAsync(built), "the waiting read still holds the answer it built");

        budget.Release(budget.Bytes);
        var again = await waiting.WaitAsync(Bound);
        Assert.Equal(Keys, again.Kvs.Count);
        Assert.Equal(1, builds);
        Assert.Equal(again.CalculateSize(), budget.InUse);
    }

    [Fact]
    public async Task A_range_let_in_after_writes_answers_what_it_read_with_its_first_header()
    {
        await using var member = await MemberAsync();
        var (node, budget, kv) = member.Parts;
        var immediate = await ReadAtOnceAsync(member, c => kv.Range(Everything, c));

        Assert.True(budget.TryTake(budget.Bytes));
        var waiting = kv.Range(Everything, new TestCallContext());
        await WaitUntilAsync(() => budget.Waiting == 1);
        await WriteMeanwhileAsync(node);
        budget.Release(budget.Bytes);
        var answer = await waiting.WaitAsync(Bound);

        Assert.Equal(immediate.ToByteArray(), answer.ToByteArray());
        // The writes did change what a read sees now.
        var now = await node.RangeAsync(Everything, CancellationToken.None);
        Assert.True(now.Header.Revision > answer.Header.Revision);
        Assert.NotEqual(answer.Count, now.Count);
    }

    [Fact]
    public async Task A_read_only_txn_let_in_after_writes_answers_the_branch_its_compares_chose_at_its_revision()
    {
        await using var member = await MemberAsync();
        var (node, budget, kv) = member.Parts;
        var first = await node.RangeAsync(new RangeRequest { Key = Key(0) }, CancellationToken.None);
        // Holds until k000 is written again: then the failure branch, a small answer, would be taken.
        var txn = new TxnRequest
        {
            Compare = { new Compare { Key = Key(0), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = first.Kvs[0].ModRevision } },
            Success = { new RequestOp { RequestRange = Everything } },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = Key(1) } } },
        };
        var immediate = await ReadAtOnceAsync(member, c => kv.Txn(txn, c));
        Assert.True(immediate.Succeeded);

        Assert.True(budget.TryTake(budget.Bytes));
        var waiting = kv.Txn(txn, new TestCallContext());
        await WaitUntilAsync(() => budget.Waiting == 1);
        await WriteMeanwhileAsync(node);
        budget.Release(budget.Bytes);
        var answer = await waiting.WaitAsync(Bound);

        Assert.Equal(immediate.ToByteArray(), answer.ToByteArray());
        Assert.False((await node.ReadOnlyTxnAsync(txn, CancellationToken.None)).Succeeded);
    }

    [Fact]
    public async Task A_read_whose_revision_is_compacted_while_it_waits_is_refused_as_the_budget_refuses_and_gives_its_room_back()
    {
        await using var member = await MemberAsync();
        var (node, budget, kv) = member.Parts;
        Assert.True(budget.TryTake(budget.Bytes));
        var waiting = kv.Range(Everything, new TestCallContext());
        await WaitUntilAsync(() => budget.Waiting == 1);
        var revision = await WriteMeanwhileAsync(node);
        await node.ProposeAsync<CompactionResponse>(new InternalRequest { Compaction = new CompactionRequest { Revision = revision } }, CancellationToken.None);
        budget.Release(budget.Bytes);

        var refused = await Assert.ThrowsAsync<RpcException>(() => waiting.WaitAsync(Bound));
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Equal(EtcdErrors.TooManyUnreadAnswers.Message, refused.Status.Detail);
        Assert.Equal(0, budget.InUse);
        // The client's retry reads anew.
        var context = new TestCallContext();
        var retried = await kv.Range(Everything, context);
        Assert.Equal(revision, retried.Header.Revision);
    }

    private static ByteString Key(int i) => ByteString.CopyFromUtf8($"k{i:D3}");

    /// <summary>A read answered at once, whose room is given back as its sent answer's would be.</summary>
    private static async Task<T> ReadAtOnceAsync<T>(Member member, Func<ServerCallContext, Task<T>> read)
    {
        var context = new TestCallContext();
        var answer = await read(context);
        context.Features.Get<UnreadAnswerHold>()!.Release();
        Assert.Equal(0, member.Budget.InUse);
        return answer;
    }

    /// <summary>A changed value, a deleted key and a new key, all in the full range; returns the revision after them.</summary>
    private static async Task<long> WriteMeanwhileAsync(KvorumNode node)
    {
        await node.ProposeAsync<PutResponse>(new InternalRequest { Put = new PutRequest { Key = Key(0), Value = ByteString.CopyFromUtf8("changed") } }, CancellationToken.None);
        await node.ProposeAsync<DeleteRangeResponse>(new InternalRequest { DeleteRange = new DeleteRangeRequest { Key = Key(2) } }, CancellationToken.None);
        await node.ProposeAsync<DeleteRangeResponse>(new InternalRequest { DeleteRange = new DeleteRangeRequest { Key = Key(3) } }, CancellationToken.None);
        var put = await node.ProposeAsync<PutResponse>(new InternalRequest { Put = new PutRequest { Key = Key(Keys), Value = ByteString.CopyFromUtf8("new") } }, CancellationToken.None);
        return put.Header.Revision;
    }

    private static async Task<bool> CollectedAsync(WeakReference<RangeResponse> reference)
    {
        for (var i = 0; i < 20; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            if (!reference.TryGetTarget(out _))
                return true;
            await Task.Delay(50);
        }
        return false;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Bound);
        while (!condition())
            await Task.Delay(10, timeout.Token);
    }

    private static async Task<Member> MemberAsync()
    {
        var cluster = InMemoryCluster.Start(1);
        var node = await cluster.WaitForLeaderAsync(Bound);
        var value = ByteString.CopyFrom(new byte[1024]);
        for (var i = 0; i < Keys; i++)
            await node.ProposeAsync<PutResponse>(new InternalRequest { Put = new PutRequest { Key = Key(i), Value = value } }, CancellationToken.None);
        var budget = new UnreadAnswerBudget(BudgetBytes);
        return new Member(cluster, node, budget, new KvService(node, new ServerOptions(), budget));
    }

    /// <summary>One in-process member with its KV service and a budget that holds one full-range answer.</summary>
    private sealed record Member(InMemoryCluster Cluster, KvorumNode Node, UnreadAnswerBudget Budget, KvService Kv) : IAsyncDisposable
    {
        public (KvorumNode Node, UnreadAnswerBudget Budget, KvService Kv) Parts => (Node, Budget, Kv);

        public ValueTask DisposeAsync() => Cluster.DisposeAsync();
    }
}
