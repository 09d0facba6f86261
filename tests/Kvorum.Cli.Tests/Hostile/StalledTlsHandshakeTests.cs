using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace Kvorum.Cli.Tests.Hostile;

/// <summary>
/// TLS handshakes that never finish on the https client port: connections that say nothing, and connections that
/// send the start of a ClientHello and stop. The member serves a TLS client meanwhile and drops them after its
/// handshake timeout.
/// </summary>
[Collection(HostileMemberGroup.Name)]
public sealed class StalledTlsHandshakeTests(HostileMember member, ITestOutputHelper output)
{
    /// <summary>Kestrel's handshake timeout (10 s) and a generous allowance for a loaded machine.</summary>
    private static readonly TimeSpan DropBound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Handshakes_that_never_finish_are_dropped_after_a_timeout_while_a_TLS_client_is_served()
    {
        // A TLS record header announcing a 512-byte handshake message, and the message's first bytes only.
        byte[] partialHello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03];
        var stalled = new List<Socket>();
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                stalled.Add(socket);
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, member.TlsPort));
                if (i % 2 == 1)
                    await socket.SendAsync(partialHello);
            }
            var watch = Stopwatch.StartNew();
            var open = stalled.Select(s => Task.Run(() => DroppedAsync(s))).ToArray();
            while (!Task.WhenAll(open).IsCompleted)
            {
                Assert.True(watch.Elapsed < DropBound, $"{open.Count(t => !t.IsCompleted)} of 200 stalled handshakes still open after {DropBound}");
                await member.ServesAsync(TimeSpan.FromSeconds(5), member.TlsKv);
                await Task.WhenAny(Task.WhenAll(open), Task.Delay(500));
            }
            output.WriteLine($"200 stalled handshakes dropped after {watch.Elapsed.TotalSeconds:F1} s");
            Assert.True(watch.Elapsed > TimeSpan.FromSeconds(2), "the stalled handshakes were dropped at once, not after a timeout");
        }
        finally
        {
            foreach (var s in stalled)
                s.Dispose();
        }
        await member.ServesAsync(TimeSpan.FromSeconds(5), member.TlsKv);
    }

    private static async Task DroppedAsync(Socket socket)
    {
        var buffer = new byte[1024];
        try
        {
            while (await socket.ReceiveAsync(buffer) > 0)
            {
            }
        }
        catch (SocketException)
        {
        }
    }
}
