using System.Net;
using System.Net.Sockets;

namespace Kvorum.Cli.Tests.Hostile;

/// <summary>
/// Bytes that are not what the port speaks, on the client port, the https client port and the peer port: random
/// bytes, an HTTP/1.1 request, and the HTTP/2 preface followed by random frames. Each connection is dropped, the
/// member goes on serving, and its log gets no stack trace and no line per connection.
/// </summary>
[Collection(HostileMemberGroup.Name)]
public sealed class GarbageInputTests(HostileMember member)
{
    private const int ConnectionsPerKind = 20;

    [Fact]
    public async Task Garbage_bytes_on_the_client_tls_and_peer_ports_are_dropped_and_the_member_serves_on_with_a_quiet_log()
    {
        var random = new Random(23);
        var logBefore = member.Log.Split('\n').Length;
        var preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
        foreach (var port in new[] { member.ClientPort, member.TlsPort, member.PeerPort })
        {
            foreach (var kind in new Func<byte[]>[]
            {
                () => Bytes(random, 64 * 1024),
                () => "GET /etcdserverpb.KV/Range HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(),
                () => [.. preface, .. Bytes(random, 16 * 1024)],
            })
            {
                await Task.WhenAll(Enumerable.Range(0, ConnectionsPerKind).Select(_ => SendAndCloseAsync(port, kind())));
                await member.ServesAsync(TimeSpan.FromSeconds(5));
            }
        }
        await member.ServesAsync(TimeSpan.FromSeconds(5), member.TlsKv);
        Assert.True(member.Running);
        var added = member.Log.Split('\n').Skip(logBefore - 1).ToArray();
        // A stack trace, on lines of its own or folded into one by the single-line console log.
        Assert.DoesNotContain(added, line => line.TrimStart().StartsWith("at ", StringComparison.Ordinal) || line.Contains("   at ", StringComparison.Ordinal));
        Assert.True(added.Length < ConnectionsPerKind, $"{added.Length} log lines for {9 * ConnectionsPerKind} garbage connections:\n{string.Join('\n', added.Take(20))}");
    }

    private static byte[] Bytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static async Task SendAndCloseAsync(int port, byte[] bytes)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        try
        {
            await socket.SendAsync(bytes);
            // Read what the member answers, until it closes the connection or a second has passed.
            var buffer = new byte[16 * 1024];
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            while (await socket.ReceiveAsync(buffer, wait.Token) > 0)
            {
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // Reset or still open: either way the member has had the bytes.
        }
    }
}
