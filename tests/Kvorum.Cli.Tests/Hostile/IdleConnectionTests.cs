using Google.Protobuf;
using Kvorum.Etcd.Api;
using Xunit.Abstractions;

namespace Kvorum.Cli.Tests.Hostile;

/// <summary>
/// Clients that connect and then do nothing: thousands of idle HTTP/2 connections, and one connection with far more
/// idle watch streams than a connection may open. The member keeps them or refuses them, and goes on serving others.
/// </summary>
[Collection(HostileMemberGroup.Name)]
public sealed class IdleConnectionTests(HostileMember member, ITestOutputHelper output)
{
    /// <summary>Idle connections, sized by <c>KVORUM_HOSTILE_CONNECTIONS</c>.</summary>
    private static readonly int Connections = int.TryParse(Environment.GetEnvironmentVariable("KVORUM_HOSTILE_CONNECTIONS"), out var n) ? n : 2000;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Two_thousand_idle_HTTP2_connections_are_held_while_another_client_puts_and_gets_and_memory_stays_bounded()
    {
        var before = member.ResidentBytes();
        var idle = new List<RawHttp2Connection>();
        try
        {
            foreach (var batch in Enumerable.Range(0, Connections).Chunk(100))
            {
                idle.AddRange(await Task.WhenAll(batch.Select(_ => RawHttp2Connection.OpenAsync(member.ClientPort))));
                await member.ServesAsync(Bound);
            }
            await Task.Delay(1000);
            await member.ServesAsync(Bound);
            await member.ServesAsync(Bound, member.TlsKv);
            var held = idle.Count(c => !c.ClosedByPeer());
            var during = member.ResidentBytes();
            output.WriteLine($"{held} of {idle.Count} idle connections held; RSS {before >> 20} MiB before, {during >> 20} MiB with them");
            Assert.True(member.Running);
            Assert.Equal(idle.Count, held);
            // About 20 KiB a connection (its pipes, HPACK tables and socket state) and the runtime's pools.
            Assert.True(during - before < 256L << 20, $"{idle.Count} idle connections took {(during - before) >> 20} MiB");
        }
        finally
        {
            foreach (var c in idle)
                c.Dispose();
        }
        await member.ServesAsync(Bound);
    }

    [Fact]
    public async Task A_thousand_idle_watch_streams_on_one_connection_leave_the_member_serving_others()
    {
        var before = member.ResidentBytes();
        using var connection = await RawHttp2Connection.OpenAsync(member.ClientPort);
        var opened = 0;
        try
        {
            for (; opened < 1000; opened++)
            {
                var create = new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8($"idle/{opened}") } };
                await connection.CallAsync("/etcdserverpb.Watch/Watch", create, endStream: false);
            }
        }
        catch (System.Net.Sockets.SocketException e)
        {
            // Past the connection's stream limit the listener refuses streams, and a client that goes on regardless
            // is told to calm down and cut off: how many it sent first depends on timing.
            output.WriteLine($"the member closed the connection after {opened} streams were sent: {e.SocketErrorCode}");
            Assert.True(connection.ClosedByPeer());
        }
        await Task.Delay(1000);
        await member.ServesAsync(Bound);
        var during = member.ResidentBytes();
        output.WriteLine($"RSS {before >> 20} MiB before, {during >> 20} MiB with {opened} streams opened on one connection");
        Assert.True(member.Running);
        Assert.True(during - before < 128L << 20, $"{opened} idle streams took {(during - before) >> 20} MiB");
    }
}
