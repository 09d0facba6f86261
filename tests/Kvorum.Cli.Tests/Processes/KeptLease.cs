using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A lease kept alive as etcd's client keeps one: a keep-alive every third of the TTL on a <c>LeaseKeepAlive</c>
/// stream, and a new stream on the next member when one ends. It records when the last acknowledged keep-alive was
/// sent and when its answer came: the server renewed the lease between the two, so the lease may not expire before
/// the send time + TTL, and (once keep-alives stop) should expire soon after the answer time + TTL.
/// </summary>
internal sealed class KeptLease
{
    private readonly IReadOnlyDictionary<string, GrpcChannel> _channels;
    private readonly Func<string, string> _pickMember;
    private readonly CancellationTokenSource _stopSending = new();
    private readonly CancellationTokenSource _stopStreams = new();
    private readonly List<string> _problems = [];
    private Task _running = Task.CompletedTask;
    private long _pending;

    /// <param name="id">The lease.</param>
    /// <param name="ttlSeconds">Its granted TTL.</param>
    /// <param name="channels">A channel to every member, by name.</param>
    /// <param name="firstMember">The member the first stream goes to.</param>
    /// <param name="pickMember">Given the member whose stream ended, the member to try next.</param>
    public KeptLease(long id, long ttlSeconds, IReadOnlyDictionary<string, GrpcChannel> channels, string firstMember, Func<string, string> pickMember)
    {
        Id = id;
        Ttl = TimeSpan.FromSeconds(ttlSeconds);
        _channels = channels;
        _pickMember = pickMember;
        FirstMember = firstMember;
    }

    public long Id { get; }

    public TimeSpan Ttl { get; }

    public string FirstMember { get; }

    /// <summary>When the last acknowledged keep-alive was sent (<see cref="Stopwatch"/> ticks); 0 before the first.</summary>
    public long LastAckedSend { get; private set; }

    /// <summary>When the last acknowledgement came (<see cref="Stopwatch"/> ticks); 0 before the first.</summary>
    public long LastAck { get; private set; }

    /// <summary>Every member a stream was opened on, in order, with why the previous one ended.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> History { get; } = new();

    /// <summary>Answers that said the lease was gone, and other surprises.</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_problems)
                return [.. _problems];
        }
    }

    /// <summary>Starts keeping the lease alive.</summary>
    public void Start() => _running = Task.Run(RunAsync);

    /// <summary>
    /// Stops sending keep-alives, waits (up to 5 s) for the answers to those in flight so that
    /// <see cref="LastAck"/> is the last renewal, then closes the stream.
    /// </summary>
    public async Task StopAsync()
    {
        await _stopSending.CancelAsync();
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 5;
        while (Interlocked.Read(ref _pending) > 0 && Stopwatch.GetTimestamp() < deadline)
            await Task.Delay(10);
        await _stopStreams.CancelAsync();
        await _running;
    }

    private async Task RunAsync()
    {
        var member = FirstMember;
        while (!_stopSending.IsCancellationRequested)
        {
            History.Enqueue(member);
            try
            {
                await KeepAliveOnAsync(_channels[member]);
                History.Enqueue("(the server ended the stream)");
            }
            catch (RpcException e) when (!_stopStreams.IsCancellationRequested)
            {
                History.Enqueue($"({e.StatusCode}: {e.Status.Detail})");
            }
            catch (Exception e) when (e is RpcException or OperationCanceledException)
            {
                return;
            }
            member = _pickMember(member);
            try
            {
                await Task.Delay(100, _stopSending.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task KeepAliveOnAsync(GrpcChannel channel)
    {
        using var call = new Lease.LeaseClient(channel).LeaseKeepAlive(cancellationToken: _stopStreams.Token);
        var sent = new Queue<long>();
        Interlocked.Exchange(ref _pending, 0);
        var reading = Task.Run(async () =>
        {
            while (await call.ResponseStream.MoveNext(_stopStreams.Token))
            {
                var now = Stopwatch.GetTimestamp();
                var answer = call.ResponseStream.Current;
                long sentAt;
                lock (sent)
                    sentAt = sent.Count > 0 ? sent.Dequeue() : 0;
                Interlocked.Decrement(ref _pending);
                if (answer.TTL <= 0)
                {
                    Problem($"lease {Id:x} not found by a keep-alive at {now}");
                    continue;
                }
                LastAckedSend = sentAt;
                LastAck = now;
            }
        });
        try
        {
            while (!_stopSending.IsCancellationRequested && !reading.IsCompleted)
            {
                lock (sent)
                    sent.Enqueue(Stopwatch.GetTimestamp());
                Interlocked.Increment(ref _pending);
                await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = Id });
                // WhenAny does not throw: a stop ends the wait without an error.
                await Task.WhenAny(reading, Task.Delay(Ttl / 3, _stopSending.Token));
            }
        }
        finally
        {
            // The reader ends with the stream (or with the stop); its error is the stream's.
            await reading;
        }
    }

    private void Problem(string text)
    {
        lock (_problems)
            _problems.Add(text);
    }
}
