using Google.Protobuf;
using Grpc.Core;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Http2;

namespace Kvorum.Server.Api;

/// <summary>The KV service's large read answers, held to the member's <see cref="UnreadAnswerBudget"/>.</summary>
internal sealed partial class KvService
{
    /// <summary>
    /// Waits until the member's budget of unread answers has room for <paramref name="answer"/>, then lets it be
    /// written; <see cref="UnreadAnswerRelease"/> gives the room back when the answer has left (or its stream has
    /// ended). Refuses it with Unavailable, which etcd's clients retry for reads, when no room came in time.
    /// </summary>
    /// <remarks>
    /// Writes are not held here: their answers are small, and a write that has been applied must not be answered with
    /// an error that invites a retry.
    /// </remarks>
    private async Task<T> WithinBudget<T>(Task<T> answer, ServerCallContext context)
        where T : IMessage
    {
        var response = await answer.ConfigureAwait(false);
        long bytes = response.CalculateSize();
        if (UnreadAnswerBudget.IsSmall(bytes))
            return response;
        var wait = UnreadAnswerBudget.WaitLimit(context.Deadline.ToUniversalTime(), DateTime.UtcNow);
        if (!await answers.TakeAsync(bytes, wait, context.CancellationToken).ConfigureAwait(false))
            throw new EtcdException(EtcdErrors.TooManyUnreadAnswers);
        // Given back once the answer has left or its stream has ended (UnreadAnswerRelease).
        context.GetHttpContext().Features.Set(new UnreadAnswerHold(answers, bytes));
        return response;
    }
}
