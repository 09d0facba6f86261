using Microsoft.Extensions.Hosting;

namespace Kvorum.Server;

/// <summary>
/// A host lifetime that leaves SIGTERM and Ctrl-C alone. <c>kvorum serve</c> handles them itself (the
/// cancellation token of <see cref="KvorumServer.RunAsync"/>) and must keep serving its peers while it hands
/// leadership over; the default console lifetime would start stopping the web host on the same signal.
/// </summary>
internal sealed class SignalFreeLifetime : IHostLifetime
{
    /// <inheritdoc/>
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
