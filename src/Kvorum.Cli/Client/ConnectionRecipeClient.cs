using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Recipes;

namespace Kvorum.Cli.Client;

/// <summary>
/// The lock and election recipes' calls over the CLI's connection: unary calls move on to the next endpoint when one
/// is unreachable and fail with etcdctl's error line; watches go to the first endpoint (the session's keep-alive moves on
/// to the next when its stream breaks, so a lock is kept, but a wait for one ends with its watch).
/// </summary>
/// <param name="connection">The connection.</param>
internal sealed class ConnectionRecipeClient(EtcdConnection connection) : IRecipeClient
{
    /// <inheritdoc/>
    public ChannelBase WatchChannel => connection.Channel(connection.Endpoints[0]);

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
