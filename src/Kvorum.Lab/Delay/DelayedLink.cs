using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Kvorum.Lab.Delay;

/// <summary>
/// One direction of one peer link, relayed through the host: a listener on the host's bridge address that
/// forwards every connection to one member's peer port, holding each chunk of bytes, both ways, for
/// <see cref="PeerDelay.Current"/> before passing it on. Order is kept: chunks leave in the order they came.
/// </summary>
/// <remarks>
/// The lab cannot delay packets in the kernel (netem is not on every kernel), so the delay is added here, above
/// TCP: a relayed byte stream arrives late but whole, as over a slow network.
/// </remarks>
internal sealed class DelayedLink : IDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly PeerDelay _delay;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Starts listening on an ephemeral port of <paramref name="listenOn"/>.</summary>
    /// <param name="listenOn">The host's address on the lab bridge.</param>
    /// <param name="target">The member's peer endpoint.</param>
    /// <param name="delay">Where the current delay is read.</param>
    public DelayedLink(IPAddress listenOn, IPEndPoint target, PeerDelay delay)
    {
        _target = target;
        _delay = delay;
        _listener = new TcpListener(listenOn, 0);
        _listener.Start();
        _ = Task.Run(AcceptAsync);
    }

    /// <summary>The port the relay listens on.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Stops listening and ends every relayed connection.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Dispose();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        var stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            Socket inbound;
            try
            {
                inbound = await _listener.AcceptSocketAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => RelayAsync(inbound, stop));
        }
    }

    private async Task RelayAsync(Socket inbound, CancellationToken stop)
    {
        using var _ = inbound;
        using var outbound = new Socket(_target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        inbound.NoDelay = true;
        try
        {
            await outbound.ConnectAsync(_target, stop).ConfigureAwait(false);
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var forward = PumpAsync(inbound, outbound, ended.Token);
            var back = PumpAsync(outbound, inbound, ended.Token);
            await Task.WhenAny(forward, back).ConfigureAwait(false);
            await ended.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(forward, back).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The member is down or the relay is stopping: the connection ends, as a broken link would.
        }
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/>, each chunk held until its due time.</summary>
    private async Task PumpAsync(Socket from, Socket to, CancellationToken stop)
    {
        var queue = Channel.CreateUnbounded<(long Due, byte[] Bytes)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writer = Task.Run(async () =>
        {
            try
            {
                await foreach (var (due, bytes) in queue.Reader.ReadAllAsync(stop).ConfigureAwait(false))
                {
                    var wait = Stopwatch.GetElapsedTime(due);
                    if (wait < TimeSpan.Zero)
                        await Task.Delay(-wait, stop).ConfigureAwait(false);
                    await to.SendAsync(bytes, SocketFlags.None, stop).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }, CancellationToken.None);
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, stop).ConfigureAwait(false);
                if (read == 0)
                    break;
                var due = Stopwatch.GetTimestamp() + (long)(_delay.Current.TotalSeconds * Stopwatch.Frequency);
                queue.Writer.TryWrite((due, buffer[..read]));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        queue.Writer.TryComplete();
        await writer.ConfigureAwait(false);
    }
}
