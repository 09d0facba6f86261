using Grpc.Core;
using Kvorum.Etcd.Api.V3Lock;
using Kvorum.Etcd.Errors;
using Kvorum.Etcd.Recipes;

namespace Kvorum.Server.Api;

/// <summary>
/// etcd's Lock service (<c>v3lockpb.Lock</c>): <see cref="LeaseLock"/> run on this member's own client
/// (<see cref="LoopbackClient"/>). Nothing keeps the lease alive: a lock lasts as long as its lease, and passes to the
/// next contender when the lease is revoked or expires. Every failure reaches the client as Unknown with etcd's text.
/// </summary>
internal sealed class LockService(LoopbackClient loopback) : Kvorum.Etcd.Api.V3Lock.Lock.LockBase
{
    /// <inheritdoc />
    public override Task<LockResponse> Lock(LockRequest request, ServerCallContext context) =>
        EtcdCall.RunAsUnknown(async () =>
        {
            var lease = await loopback.SessionLeaseAsync(request.Lease, context.CancellationToken).ConfigureAwait(false);
            var held = new LeaseLock(loopback.RecipesFor(context), request.Name, lease);
            await held.LockAsync(context.CancellationToken).ConfigureAwait(false);
            return new LockResponse { Header = held.Header, Key = held.Key };
        });

    /// <inheritdoc />
    public override Task<UnlockResponse> Unlock(UnlockRequest request, ServerCallContext context) =>
        EtcdCall.RunAsUnknown(async () =>
        {
            var deleted = await loopback.RecipesFor(context).DeleteRangeAsync(new Etcd.Api.DeleteRangeRequest { Key = request.Key }, context.CancellationToken).ConfigureAwait(false);
            return new UnlockResponse { Header = deleted.Header };
        });
}
