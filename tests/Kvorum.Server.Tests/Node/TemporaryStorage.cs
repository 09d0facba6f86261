using Kvorum.Raft;
using Kvorum.Storage;

namespace Kvorum.Server.Tests.Node;

/// <summary>A member's storage in a temporary directory, holding a log of a few entries of term 1, for tests that need a storage's handles (prepared snapshots, snapshots being received).</summary>
internal sealed class TemporaryStorage : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kvorum-storage-" + Guid.NewGuid().ToString("N"));

    public TemporaryStorage(ulong entries = 10)
    {
        Directory.CreateDirectory(_dir);
        Storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = _dir });
        var log = Enumerable.Range(1, (int)entries).Select(i => new Entry((ulong)i, 1, EntryType.Normal, new byte[] { (byte)i })).ToArray();
        Storage.Save(new HardState(1, 0, entries), log);
    }

    public DiskRaftStorage Storage { get; }

    /// <summary>A snapshot at <paramref name="index"/> written and durable, not yet current.</summary>
    public PreparedSnapshot Prepare(ulong index) =>
        Storage.PrepareSnapshot(index, ConfState.OfVoters(1), stream => stream.Write(new byte[16])) ?? throw new InvalidOperationException("not prepared");

    /// <summary>A snapshot at <paramref name="index"/> being received from a leader.</summary>
    public SnapshotReceiver Receive(ulong index) => Storage.ReceiveSnapshot(new SnapshotMetadata(index, 1, ConfState.OfVoters(1)));

    public void Dispose()
    {
        Storage.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
