using Grpc.Core;
using Kvorum.Etcd.Api;

namespace Kvorum.Etcd.Recipes;

/// <summary>
/// The etcd calls the lock and election recipes make: Txn, Range and DeleteRange, and Watch streams. The CLI answers
/// them over its connection (endpoint failover, its error lines); the server over a loopback channel to its own
/// client listener (<see cref="ChannelRecipeClient"/>).
/// </summary>
internal interface IRecipeClient
{
    /// <summary>The channels Watch streams are opened on, in the order to try them (<see cref="ResumingWatch"/>).</summary>
    IReadOnlyList<ChannelBase> WatchChannels { get; }

    /// <summary>Runs a txn.</summary>
    /// <param name="request">The txn.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The answer.</returns>
    Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellation);

    /// <summary>Reads a range.</summary>
    /// <param name="request">The range.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The answer.</returns>
    Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellation);

    /// <summary>Deletes a range.</summary>
    /// <param name="request">The range.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The answer.</returns>
    Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken cancellation);
}
