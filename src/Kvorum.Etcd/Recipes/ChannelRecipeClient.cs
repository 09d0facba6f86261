using Grpc.Core;
using Kvorum.Etcd.Api;

namespace Kvorum.Etcd.Recipes;

/// <summary>
/// <see cref="IRecipeClient"/> over one gRPC channel, with no deadline of its own (a lock or a campaign waits as long
/// as its caller does). Failures reach the recipe's caller as the <see cref="RpcException"/> the server answered.
/// </summary>
/// <param name="channel">The channel to an etcd API endpoint.</param>
internal sealed class ChannelRecipeClient(ChannelBase channel) : IRecipeClient
{
    private readonly KV.KVClient _kv = new(channel);

    /// <inheritdoc/>
    public IReadOnlyList<ChannelBase> WatchChannels => [channel];

    /// <inheritdoc/>
    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellation) =>
        _kv.TxnAsync(request, cancellationToken: cancellation).ResponseAsync;

    /// <inheritdoc/>
    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellation) =>
        _kv.RangeAsync(request, cancellationToken: cancellation).ResponseAsync;

    /// <inheritdoc/>
    public Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken cancellation) =>
        _kv.DeleteRangeAsync(request, cancellationToken: cancellation).ResponseAsync;
}
