using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Kvorum.Server.Http2;

/// <summary>
/// The room one large answer took from the member's <see cref="UnreadAnswerBudget"/>, carried as a feature of its
/// call until the answer has been handed to the transport or the call's stream has ended; then given back, once.
/// </summary>
internal sealed class UnreadAnswerHold(UnreadAnswerBudget budget, long bytes)
{
    private int _released;

    /// <summary>The answer's size.</summary>
    public long Bytes { get; } = bytes;

    /// <summary>Gives the room back; later calls do nothing.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
            budget.Release(Bytes);
    }
}

/// <summary>
/// Gives an <see cref="UnreadAnswerHold"/> back when its answer has left: after the call's handler, the answer is
/// flushed, which returns once the stream's buffer has been taken by the connection down to Kestrel's response buffer
/// (the rest waits for the client's flow-control window), or when the stream ends.
/// </summary>
/// <remarks>
/// Why not <c>HttpResponse.OnCompleted</c>: for HTTP/2, Kestrel runs it as soon as the handler has written the
/// answer into the stream's buffer, before any of it has been sent, so a client that never reads would still hold it.
/// </remarks>
internal static class UnreadAnswerRelease
{
    /// <summary>Adds the release to the member's pipeline; only the KV service's read calls pay for it.</summary>
    public static void UseUnreadAnswerRelease(this IApplicationBuilder app) =>
        app.Use(static next => context => MayHold(context.Request.Path) ? ReleasedAfterAsync(next, context) : next(context));

    // The calls whose answers KvService holds to the budget (Range and the Txns that only read).
    private static bool MayHold(PathString path) =>
        path.Value is "/etcdserverpb.KV/Range" or "/etcdserverpb.KV/Txn";

    private static async Task ReleasedAfterAsync(RequestDelegate next, HttpContext context)
    {
        try
        {
            await next(context).ConfigureAwait(false);
            if (context.Features.Get<UnreadAnswerHold>() is not null && context.Response.HasStarted)
                await context.Response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The stream has ended: nothing of the answer is left to send.
        }
        finally
        {
            context.Features.Get<UnreadAnswerHold>()?.Release();
        }
    }
}
