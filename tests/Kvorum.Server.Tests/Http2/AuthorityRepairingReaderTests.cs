using System.Buffers;
using System.IO.Pipelines;
using Kvorum.Server.Http2;

namespace Kvorum.Server.Tests.Http2;

public sealed class AuthorityRepairingReaderTests
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
    private static readonly byte[] Settings = [0, 0, 6, 0x4, 0, 0, 0, 0, 0, 0, 0x3, 0, 0, 0, 100];
    private static readonly byte[] SettingsAck = [0, 0, 0, 0x4, 0x1, 0, 0, 0, 0];
    private static readonly byte[] WindowUpdate = [0, 0, 4, 0x8, 0, 0, 0, 0, 0, 0, 1, 0, 0];
    private static readonly byte[] Data = [0, 0, 5, 0x0, 0x1, 0, 0, 0, 1, 0, 0, 0, 0, 0];

    private static readonly byte[] EtcdctlHeaders = SchemeAuthorityTests.Frame(0x4, Convert.FromHexString(SchemeAuthorityTests.EtcdctlHeadersPayload));
    private static readonly byte[] RawUrlHeaders = SchemeAuthorityTests.Frame(0x4, [0x83, 0x01, 8, .. "http://h"u8]);
    private static readonly byte[] HostHeaders = SchemeAuthorityTests.Frame(0x4, [0x83, 0x41, 4, .. "h:80"u8]);

    /// <summary>A reader past etcdctl's first HEADERS frame, so repairing: Kestrel has read and consumed all of it.</summary>
    private static async Task<(Pipe Socket, AuthorityRepairingReader Reader)> RepairingAsync()
    {
        var socket = new Pipe();
        var reader = new AuthorityRepairingReader(socket.Reader);
        await socket.Writer.WriteAsync(new byte[][] { Preface, Settings, EtcdctlHeaders }.SelectMany(b => b).ToArray());
        var setup = await reader.ReadAsync();
        reader.AdvanceTo(setup.Buffer.End);
        var headers = await reader.ReadAsync();
        Assert.Equal(SchemeAuthority.Repair(EtcdctlHeaders), headers.Buffer.ToArray());
        reader.AdvanceTo(headers.Buffer.End);
        return (socket, reader);
    }

    /// <summary>Writes <paramref name="input"/> in chunks of <paramref name="chunk"/> bytes and reads it all back through the reader.</summary>
    private static async Task<byte[]> ThroughReader(byte[] input, int chunk)
    {
        var socket = new Pipe();
        var reader = new AuthorityRepairingReader(socket.Reader);
        var writing = Task.Run(async () =>
        {
            for (var at = 0; at < input.Length; at += chunk)
            {
                await socket.Writer.WriteAsync(input.AsMemory(at, Math.Min(chunk, input.Length - at)));
                await Task.Yield();
            }
            await socket.Writer.CompleteAsync();
        });

        var output = new List<byte>();
        while (true)
        {
            var result = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            foreach (var segment in result.Buffer)
                output.AddRange(segment.ToArray());
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
                break;
        }
        reader.Complete();
        await writing;
        return [.. output];
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task A_connection_that_opens_with_a_url_authority_has_every_url_authority_repaired(int chunk)
    {
        byte[] input = [.. Preface, .. Settings, .. SettingsAck, .. WindowUpdate, .. EtcdctlHeaders, .. Data, .. RawUrlHeaders, .. Data];

        var output = await ThroughReader(input, chunk);

        byte[] expected = [.. Preface, .. Settings, .. SettingsAck, .. WindowUpdate, .. SchemeAuthority.Repair(EtcdctlHeaders)!, .. Data,
            .. SchemeAuthority.Repair(RawUrlHeaders)!, .. Data];
        Assert.Equal(expected, output);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    public async Task A_connection_that_opens_with_a_host_authority_passes_through_unchanged(int chunk)
    {
        // After a first request with a host for authority, the reader no longer looks: a later URL passes too.
        byte[] input = [.. Preface, .. Settings, .. HostHeaders, .. Data, .. RawUrlHeaders, .. Data];

        Assert.Equal(input, await ThroughReader(input, chunk));
    }

    [Fact]
    public async Task A_first_headers_frame_larger_than_the_frame_size_limit_is_not_held_back()
    {
        // Its header claims 1 MiB: the reader hands it on at once (Kestrel refuses it) rather than wait for it all.
        byte[] huge = [0x10, 0, 0, 0x1, 0x4, 0, 0, 0, 1, 0x83];
        var socket = new Pipe();
        var reader = new AuthorityRepairingReader(socket.Reader);
        await socket.Writer.WriteAsync(new byte[][] { Preface, Settings, huge }.SelectMany(b => b).ToArray());

        var first = await reader.ReadAsync();
        reader.AdvanceTo(first.Buffer.End);
        var second = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(huge, second.Buffer.ToArray());
    }

    [Fact]
    public async Task A_reader_that_examined_everything_and_kept_it_waits_for_more_bytes_instead_of_spinning()
    {
        var socket = new Pipe();
        var reader = new AuthorityRepairingReader(socket.Reader);
        byte[] settings = [.. Settings];
        await socket.Writer.WriteAsync(new byte[][] { Preface, settings[..12] }.SelectMany(b => b).ToArray());

        // Take the preface, then keep the part of SETTINGS that came while looking at all of it.
        var first = await reader.ReadAsync();
        reader.AdvanceTo(first.Buffer.GetPosition(24), first.Buffer.End);
        var next = reader.ReadAsync();
        await Task.Delay(200);
        Assert.False(next.IsCompleted, "a read returned though no byte had come since everything was examined");

        await socket.Writer.WriteAsync(settings.AsMemory(12));
        var second = await next.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(settings, second.Buffer.ToArray());
    }

    [Fact]
    public async Task While_repairing_a_large_data_frame_passes_on_as_it_comes_and_a_slow_reader_holds_the_socket_back()
    {
        var (socket, reader) = await RepairingAsync();

        // A DATA frame that says 16 MiB: its first 40,000 bytes reach the reader before the rest is sent.
        byte[] dataHeader = [0xFF, 0xFF, 0xFF, 0x0, 0x0, 0, 0, 0, 1];
        await socket.Writer.WriteAsync(new byte[][] { dataHeader, new byte[40_000] }.SelectMany(b => b).ToArray());
        long sent = 9 + 40_000, received = 0;
        while (received < sent)
        {
            var part = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            received += part.Buffer.Length;
            reader.AdvanceTo(part.Buffer.End);
        }

        // Nobody reads now: what the pump has copied fills its pipe, then the socket's, and the sender has to wait,
        // having sent no more than the two pipes and one read hold.
        var chunk = new byte[64 * 1024];
        ValueTask<FlushResult> blocked = default;
        while (sent < 8 << 20)
        {
            var write = socket.Writer.WriteAsync(chunk);
            sent += chunk.Length;
            if (!write.IsCompleted)
            {
                await Task.Delay(300);
                if (!write.IsCompleted)
                {
                    blocked = write;
                    break;
                }
            }
        }
        Assert.True(sent < 1 << 20, $"the sender got {sent} bytes out before it had to wait");

        while (received < sent)
        {
            var part = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            received += part.Buffer.Length;
            reader.AdvanceTo(part.Buffer.End);
        }
        await blocked.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task A_socket_failure_while_repairing_reaches_the_reader()
    {
        var (socket, reader) = await RepairingAsync();

        await socket.Writer.CompleteAsync(new IOException("connection reset by peer"));

        var error = await Assert.ThrowsAsync<IOException>(async () => await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("connection reset by peer", error.Message);
    }

    [Fact]
    public async Task A_connection_that_ends_before_its_first_request_ends_for_kestrel_too()
    {
        byte[] input = [.. Preface, .. Settings, .. EtcdctlHeaders[..20]];

        Assert.Equal(input, await ThroughReader(input, 3));
    }

    [Fact]
    public async Task Completing_a_repairing_reader_completes_the_sockets_reader()
    {
        var (socket, reader) = await RepairingAsync();
        reader.Complete();

        // The pump stops and completes the socket's reader: writing to the socket then reports it.
        FlushResult flushed = default;
        for (var i = 0; i < 100 && !flushed.IsCompleted; i++)
        {
            flushed = await socket.Writer.WriteAsync(Data);
            await Task.Delay(10);
        }
        Assert.True(flushed.IsCompleted, "the socket's reader was not completed");
    }
}
