using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// etcd's <c>concurrency.Session</c>: a lease granted for the lock and election recipes and kept alive in the
/// background (<see cref="LeaseKeepAlive"/>) until disposed. The lease is not revoked on disposal, as etcdctl does
/// not revoke it either: keys left under it go when it expires.
/// </summary>
internal sealed class LeaseSession : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _expired = new();
    private readonly Task _keepAlive;

    private LeaseSession(EtcdConnection connection, long leaseId, TimeSpan firstAnswerWithin)
    {
        LeaseId = leaseId;
        _keepAlive = KeepAliveAsync(connection, firstAnswerWithin);
    }

    /// <summary>The session's lease.</summary>
    public long LeaseId { get; }

    /// <summary>Cancelled when the lease is gone: expired, revoked, or no longer renewable.</summary>
    public CancellationToken Expired => _expired.Token;

    /// <summary>Grants a lease of <paramref name="ttlSeconds"/> and starts keeping it alive.</summary>
    /// <param name="connection">Where to grant it and keep it alive (on the next endpoint when one fails).</param>
    /// <param name="ttlSeconds">The lease's time to live.</param>
    /// <param name="cancellation">Cancels the grant.</param>
    /// <returns>The session.</returns>
    /// <exception cref="CommandFailedException">The grant failed.</exception>
    public static async Task<LeaseSession> StartAsync(EtcdConnection connection, long ttlSeconds, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var granted = await connection.CallAsync(
            (channel, options) => new Lease.LeaseClient(channel).LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds }, options).ResponseAsync,
            cancellation).ConfigureAwait(false);
        return new LeaseSession(connection, granted.ID, TimeSpan.FromSeconds(Math.Max(ttlSeconds, 1)));
    }

    private async Task KeepAliveAsync(EtcdConnection connection, TimeSpan firstAnswerWithin)
    {
        try
        {
            await foreach (var _ in LeaseKeepAlive.RenewAsync(connection, LeaseId, firstAnswerWithin, _stop.Token).ConfigureAwait(false))
            {
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return;
        }
        catch (RpcException) when (_stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException)
        {
            // A failed stream (also one the server completed, which refuses the next write) ends the session as a
            // lost lease does: the recipes then stop what they hold.
        }
        await _expired.CancelAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _keepAlive.ConfigureAwait(false);
        _stop.Dispose();
        _expired.Dispose();
    }
}
