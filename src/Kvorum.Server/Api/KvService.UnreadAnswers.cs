using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Http2;
using Kvorum.Server.Node;

namespace Kvorum.Server.Api;

/// <summary>The KV service's large read answers, held to the member's <see cref="UnreadAnswerBudget"/>.</summary>
internal sealed partial class KvService
{
    /// <summary>
    /// Answers a read with what <paramref name="build"/> reads and etcd's header, within the member's budget of unread
    /// answers: a large answer is written once the budget has room for it; <see cref="UnreadAnswerRelease"/> gives the
    /// room back when the answer has left (or its stream has ended). Refuses it with Unavailable, which etcd's clients
    /// retry for reads, when no room came in time.
    /// </summary>
    /// <remarks>
    /// <para>An answer that must wait is not kept while it waits: only its header and size are, and once room is
    /// granted <paramref name="buildAgain"/> reads it again at the revision of that header. So the budget bounds what
    /// waiting readers hold too, not only the answers being written: without this, N waiting readers would keep N
    /// answers alive outside it. The second answer is the first one (the store keeps every version back to its last
    /// compaction), sent with the first one's header; if the store was compacted past it meanwhile, the read is
    /// refused as if no room had come, and the client's retry reads anew.</para>
    /// <para>Small answers, and large ones that find room at once, are answered as built.</para>
    /// <para>Writes are not held here: their answers are small, and a write that has been applied must not be answered
    /// with an error that invites a retry.</para>
    /// <para>The delegates are static and given the request, so that a read allocates none; the method keeps no
    /// reference to the first answer once it waits (a test holds it to that).</para>
    /// </remarks>
    /// <param name="request">The read.</param>
    /// <param name="build">Reads it (linearizably or not, as it asks), checking its permission.</param>
    /// <param name="buildAgain">Reads it again at a revision, from local state, with no new permission check.</param>
    /// <param name="context">The call.</param>
    internal async Task<T> WithinBudget<TRequest, T>(
        TRequest request,
        Func<KvorumNode, TRequest, ServerCallContext, Task<T>> build,
        Func<KvorumNode, TRequest, long, CancellationToken, Task<T>> buildAgain,
        ServerCallContext context)
        where T : class, IMessage, IHasResponseHeader
    {
        var first = TakeRoomOrLetGo(await build(node, request, context).ConfigureAwait(false), context);
        if (first.Answer is { } answer)
            return answer;

        var wait = UnreadAnswerBudget.WaitLimit(context.Deadline.ToUniversalTime(), DateTime.UtcNow);
        if (!await answers.TakeAsync(first.Bytes, wait, context.CancellationToken).ConfigureAwait(false))
            throw new EtcdException(EtcdErrors.TooManyUnreadAnswers);
        var hold = new UnreadAnswerHold(answers, first.Bytes);
        // Given back once the answer has left or its stream has ended (UnreadAnswerRelease), or here if it is refused.
        context.GetHttpContext().Features.Set(hold);
        T again;
        try
        {
            again = await buildAgain(node, request, first.Header.Revision, context.CancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException e) when (e.Error == EtcdErrors.Compacted)
        {
            // The client did not ask for this revision (it asked for a read, now or at one it named that was not
            // compacted then): a compaction must not fail it. Its retry reads anew.
            hold.Release();
            throw new EtcdException(EtcdErrors.TooManyUnreadAnswers);
        }
        again.Header = first.Header;
        Debug.Assert(again.CalculateSize() == first.Bytes, "an answer read again at its revision is the first answer");
        return again;
    }

    /// <summary>
    /// Fills <paramref name="response"/>'s header and measures it; a small answer, or one the budget has room for now,
    /// is returned to be written. Otherwise only its header and size are returned, and the answer is let go.
    /// </summary>
    private FirstAnswer<T> TakeRoomOrLetGo<T>(T response, ServerCallContext context)
        where T : class, IMessage, IHasResponseHeader
    {
        response.Header = ResponseHeaders.Fill(response.Header, node);
        long bytes = response.CalculateSize();
        if (UnreadAnswerBudget.IsSmall(bytes))
            return new FirstAnswer<T>(response, response.Header, bytes);
        if (!answers.TryTake(bytes))
            return new FirstAnswer<T>(null, response.Header, bytes);
        // Given back once the answer has left or its stream has ended (UnreadAnswerRelease).
        context.GetHttpContext().Features.Set(new UnreadAnswerHold(answers, bytes));
        return new FirstAnswer<T>(response, response.Header, bytes);
    }

    /// <summary>A read's first answer as built: the answer itself when it is written at once, else null.</summary>
    private readonly record struct FirstAnswer<T>(T? Answer, ResponseHeader Header, long Bytes)
        where T : class;
}
