using System.Diagnostics;
using Kvorum.Raft;
using Kvorum.Server.Transport;

namespace Kvorum.Server.Tests.Transport;

/// <summary>A thread-safe sink that records everything, with a polling wait for assertions.</summary>
internal sealed class RecordingSink : IRaftMessageSink
{
    private readonly Lock _lock = new();
    private readonly List<Message> _messages = [];
    private readonly List<(Message Message, byte[] Data)> _snapshots = [];
    private readonly List<ulong> _unreachable = [];
    private readonly List<ulong> _connected = [];
    private readonly List<(ulong Peer, bool Success)> _snapshotsSent = [];
    private int _snapshotsBegun;

    /// <summary>Refuses every snapshot in <see cref="BeginSnapshot"/> when set.</summary>
    public bool RefuseSnapshots { get; set; }

    /// <summary>Snapshots whose first chunk arrived.</summary>
    public int SnapshotsBegun => Volatile.Read(ref _snapshotsBegun);

    public Message[] Messages { get { lock (_lock) return [.. _messages]; } }
    public (Message Message, byte[] Data)[] Snapshots { get { lock (_lock) return [.. _snapshots]; } }
    public ulong[] Unreachable { get { lock (_lock) return [.. _unreachable]; } }
    public (ulong Peer, bool Success)[] SnapshotsSent { get { lock (_lock) return [.. _snapshotsSent]; } }

    public void OnMessage(in Message message)
    {
        lock (_lock) _messages.Add(message);
    }

    /// <summary>Peers whose stream opened, in order.</summary>
    public ulong[] Connected { get { lock (_lock) return [.. _connected]; } }

    public void OnPeerConnected(ulong peer)
    {
        lock (_lock) _connected.Add(peer);
    }

    public Stream BeginSnapshot(in Message message)
    {
        Interlocked.Increment(ref _snapshotsBegun);
        if (RefuseSnapshots)
            throw new InvalidOperationException("snapshot 0 is older than 7");
        return new MemoryStream();
    }

    public void OnSnapshot(in Message message, Stream received)
    {
        var data = ((MemoryStream)received).ToArray();
        received.Dispose();
        lock (_lock) _snapshots.Add((message, data));
    }

    public void OnUnreachable(ulong peer)
    {
        lock (_lock) _unreachable.Add(peer);
    }

    public void OnSnapshotSent(ulong peer, bool success)
    {
        lock (_lock) _snapshotsSent.Add((peer, success));
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after <paramref name="seconds"/>.</summary>
    public static async Task WaitFor(Func<bool> condition, string what, double seconds = 10)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed.TotalSeconds > seconds)
                Assert.Fail($"timed out after {seconds} s waiting for {what}");
            await Task.Delay(10);
        }
    }
}
