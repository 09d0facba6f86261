using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Server.Transport;
using Microsoft.Extensions.Logging;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Server.Tests.Transport;

/// <summary>
/// Bytes on the peer port that are not Kvorum's protocol: each is refused with InvalidArgument, nothing reaches the
/// node, and the log gets a bounded number of one-line warnings — a stranger must not be able to flood it with stack
/// traces.
/// </summary>
public sealed class MalformedPeerInputTests
{
    private const ulong Cluster = 0xc1;
    private const int Attempts = 40;

    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);
    private static readonly Method<byte[], byte[]> StreamMethod = new(MethodType.ClientStreaming, "kvorum.raft.RaftPeer", "Stream", Raw, Raw);
    private static readonly Method<byte[], byte[]> SnapshotMethod = new(MethodType.ClientStreaming, "kvorum.raft.RaftPeer", "Snapshot", Raw, Raw);

    [Fact]
    public async Task Garbage_bytes_on_the_stream_are_refused_and_logged_as_a_few_lines_without_a_stack_trace()
    {
        var logs = new RecordingLoggerProvider();
        await using var host = await PeerHost.StartAsync(Cluster, logs: logs);
        using var channel = GrpcChannel.ForAddress(host.Url);
        var garbage = new byte[] { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x99 };
        for (var i = 0; i < Attempts; i++)
            Assert.Equal(StatusCode.InvalidArgument, await SendAsync(channel, StreamMethod, garbage));
        for (var i = 0; i < Attempts; i++)
            Assert.Equal(StatusCode.InvalidArgument, await SendAsync(channel, SnapshotMethod, garbage));

        Assert.Empty(host.Sink.Messages);
        AssertFewLinesWithoutTraces(logs);
    }

    [Fact]
    public async Task A_well_formed_batch_holding_a_message_the_codec_refuses_is_refused_and_logged_as_a_few_lines_without_a_stack_trace()
    {
        var logs = new RecordingLoggerProvider();
        await using var host = await PeerHost.StartAsync(Cluster, logs: logs);
        using var channel = GrpcChannel.ForAddress(host.Url);
        var batch = new Wire.RaftBatch { ClusterId = Cluster, From = 7 };
        batch.Messages.Add(new Wire.RaftMessage { Type = (Wire.MessageType)99, From = 7, To = 1, Term = 1 });
        for (var i = 0; i < Attempts; i++)
            Assert.Equal(StatusCode.InvalidArgument, await SendAsync(channel, StreamMethod, batch.ToByteArray()));

        Assert.Empty(host.Sink.Messages);
        AssertFewLinesWithoutTraces(logs);
    }

    [Fact]
    public async Task Another_clusters_streams_are_refused_and_logged_as_a_few_lines()
    {
        var logs = new RecordingLoggerProvider();
        await using var host = await PeerHost.StartAsync(Cluster, logs: logs);
        using var channel = GrpcChannel.ForAddress(host.Url);
        var batch = new Wire.RaftBatch { ClusterId = Cluster + 1, From = 7 }.ToByteArray();
        for (var i = 0; i < Attempts; i++)
            Assert.Equal(StatusCode.FailedPrecondition, await SendAsync(channel, StreamMethod, batch));

        AssertFewLinesWithoutTraces(logs);
    }

    [Fact]
    public async Task Garbage_on_the_socket_is_dropped_without_a_warning_and_the_port_keeps_serving_peers()
    {
        var logs = new RecordingLoggerProvider();
        await using var host = await PeerHost.StartAsync(Cluster, logs: logs);
        var random = new Random(23);
        for (var i = 0; i < 20; i++)
        {
            using var socket = new System.Net.Sockets.TcpClient();
            await socket.ConnectAsync(host.Url.Host, host.Url.Port);
            var bytes = new byte[random.Next(1, 4096)];
            random.NextBytes(bytes);
            if (i % 2 == 1)
                System.Text.Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").CopyTo(bytes, 0); // a real preface, then garbage frames
            var stream = socket.GetStream();
            try
            {
                await stream.WriteAsync(bytes);
                await stream.FlushAsync();
                _ = await stream.ReadAsync(new byte[256]).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (IOException)
            {
                // The member closed the connection: what it should do.
            }
        }

        // A real sender still gets through.
        using var channel = GrpcChannel.ForAddress(host.Url);
        using (var call = new Wire.RaftPeer.RaftPeerClient(channel).Stream())
        {
            var batch = new Wire.RaftBatch { ClusterId = Cluster, From = 2 };
            batch.Messages.Add(MessageCodec.Encode(new Kvorum.Raft.Message { Type = Kvorum.Raft.MessageType.Heartbeat, From = 2, To = 1, Term = 3 }));
            await call.RequestStream.WriteAsync(batch);
            await call.RequestStream.CompleteAsync();
            await call.ResponseAsync;
        }
        Assert.Single(host.Sink.Messages);
        Assert.Empty(logs.Lines);
    }

    private static void AssertFewLinesWithoutTraces(RecordingLoggerProvider logs)
    {
        var lines = logs.Lines;
        Assert.NotEmpty(lines); // refusals are not silent
        Assert.True(lines.Length <= 4, "at most a line or two per kind of refusal, not one per attempt:\n" + string.Join('\n', lines.Select(l => $"{l.Category} {l.Level}: {l.Text}")));
        Assert.All(lines, l => Assert.Null(l.Error));
        Assert.All(lines, l => Assert.DoesNotContain('\n', l.Text));
    }

    private static async Task<StatusCode> SendAsync(GrpcChannel channel, Method<byte[], byte[]> method, byte[] payload)
    {
        using var call = channel.CreateCallInvoker().AsyncClientStreamingCall(method, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)));
        try
        {
            await call.RequestStream.WriteAsync(payload);
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The member may answer before the request stream is complete.
        }
        catch (InvalidOperationException)
        {
            // Same: the call has already ended.
        }
        try
        {
            await call.ResponseAsync;
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    /// <summary>Keeps every line logged at warning or above, with its category and whether an exception came with it.</summary>
    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        private readonly Lock _lock = new();
        private readonly List<(string Category, LogLevel Level, string Text, Exception? Error)> _lines = [];

        public (string Category, LogLevel Level, string Text, Exception? Error)[] Lines { get { lock (_lock) return [.. _lines]; } }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(RecordingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!IsEnabled(logLevel))
                    return;
                lock (owner._lock) owner._lines.Add((category, logLevel, formatter(state, exception), exception));
            }
        }
    }
}
