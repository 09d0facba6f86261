using System.Net;
using System.Net.Sockets;

namespace Kvorum.Server.Tests.Transport;

/// <summary>
/// A TCP listener that accepts its first connection and never answers on it (a connect that got through
/// to nothing, as on a path cut mid-handshake), then forwards every later connection to a target port.
/// </summary>
internal sealed class StallingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _held = [];
    private readonly List<Task> _forwarding = [];
    private readonly Task _accepting;
    private int _accepted;

    public StallingProxy(int port, int targetPort)
    {
        _target = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Connections accepted so far; the first is the stalled one.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    private async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            lock (_held)
            {
                if (Interlocked.Increment(ref _accepted) == 1)
                    _held.Add(client);
                else
                    _forwarding.Add(ForwardAsync(client));
            }
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                NetworkStream a = client.GetStream(), b = upstream.GetStream();
                await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
            {
                // The test is over, or one side hung up.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] forwarding;
        lock (_held)
        {
            foreach (var held in _held)
                held.Dispose();
            forwarding = [.. _forwarding];
        }
        await Task.WhenAll(forwarding);
        _stop.Dispose();
    }
}
