using System.Runtime.CompilerServices;
using Grpc.Core;
using Kvorum.Etcd.Api;

namespace Kvorum.Etcd.Recipes;

/// <summary>
/// A watch that outlives its stream, as etcd's Go client keeps one: when the stream breaks (its member stops, becomes
/// unreachable, or ends the stream without cancelling the watch), the watch is opened again on the next channel, from
/// the revision after the last event it gave (<see cref="WatchResume"/>), so no event is lost; events may come twice
/// only if the caller gave none of them yet. It gives up, rethrowing the last failure, once every channel has failed
/// in a row without an answer (a stream that failed with Unavailable), or ends once every channel ended its stream in
/// a row. Used by the lock and election recipes' waits.
/// </summary>
internal static class ResumingWatch
{
    /// <summary>The answers of the watch <paramref name="create"/> asks for (not the <c>created</c> ones), ending after a canceled one.</summary>
    /// <param name="channels">The channels to the members, in the order to try them.</param>
    /// <param name="create">What to watch.</param>
    /// <param name="cancellation">Ends the watch.</param>
    /// <returns>The answers.</returns>
    /// <exception cref="RpcException">Every channel failed in a row.</exception>
    public static async IAsyncEnumerable<WatchResponse> ResponsesAsync(IReadOnlyList<ChannelBase> channels, WatchCreateRequest create, [EnumeratorCancellation] CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentOutOfRangeException.ThrowIfZero(channels.Count);
        var resume = new WatchResume(create);
        for (var attempt = 0; ; attempt++)
        {
            using var watch = KeyWatch.Open(channels[attempt % channels.Count], resume.Request, cancellation);
            var answers = watch.ResponsesAsync(cancellation, includeCreated: true).GetAsyncEnumerator(cancellation);
            var broke = false;
            await using (answers.ConfigureAwait(false))
            {
                while (true)
                {
                    WatchResponse response;
                    try
                    {
                        if (!await answers.MoveNextAsync().ConfigureAwait(false))
                            break;
                        response = answers.Current;
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && !cancellation.IsCancellationRequested)
                    {
                        if (resume.Failed() >= channels.Count)
                            throw;
                        broke = true;
                        break;
                    }
                    resume.Saw(response);
                    if (response.Created && !response.Canceled)
                        continue;
                    yield return response;
                    if (response.Canceled)
                        yield break;
                }
            }
            cancellation.ThrowIfCancellationRequested();
            // The server ended the stream without cancelling the watch.
            if (!broke && resume.Failed() >= channels.Count)
                yield break;
        }
    }
}
