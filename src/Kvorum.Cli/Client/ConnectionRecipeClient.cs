using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Recipes;

namespace Kvorum.Cli.Client;

/// <summary>
/// The lock and election recipes' calls over the CLI's connection: unary calls move on to the next endpoint when one
/// is unreachable and fail with etcdctl's error line; a watch moves on to the next endpoint when its stream breaks, from
/// where it was (<see cref="ResumingWatch"/>), as the session's keep-alive does, so neither a lock held nor a wait for
/// one ends with a member.
/// </summary>
/// <param name="connection">The connection.</param>
internal sealed class ConnectionRecipeClient(EtcdConnection connection) : IRecipeClient
{
    /// <inheritdoc/>
    public IReadOnlyList<ChannelBase> WatchChannels => [.. connection.Endpoints.Select(connection.Channel)];

    /// <inheritdoc/>
    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellation) =>
        connection.CallAsync((channel, options) => new KV.KVClient(channel).TxnAsync(request, options).ResponseAsync, cancellation);

    /// <inheritdoc/>
    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellation) =>
        connection.CallAsync((channel, options) => new KV.KVClient(channel).RangeAsync(request, options).ResponseAsync, cancellation);

    /// <inheritdoc/>
    public Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken cancellation) =>
        connection.CallAsync((channel, options) => new KV.KVClient(channel).DeleteRangeAsync(request, options).ResponseAsync, cancellation);
}
