using Kvorum.Raft.Tests.Simulation;
using Kvorum.Storage;

namespace Kvorum.Raft.Tests;

/// <summary>
/// The simulator on the real write-ahead log (Kvorum.Storage) in a temporary directory: the core runs
/// on it unchanged, and a crash closes the files so a restart recovers from what reached the disk.
/// </summary>
public sealed class DiskStorageSimulationTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kvorum-sim-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    private DiskRaftStorage Open(ulong id, ConfState initial)
    {
        var storage = DiskRaftStorage.Open(new StorageOptions
        {
            DataDirectory = Path.Combine(_root, $"n{id}"),
            SegmentSize = 64 * 1024,
        });
        if (storage.LastIndex == 0 && storage.HardState.IsEmpty && (initial.Voters.Length > 0 || initial.Learners.Length > 0))
            RaftBootstrap.Write(storage, initial);
        return storage;
    }

    [Fact]
    public void Churn_on_disk_storage_with_restarts_and_snapshots()
    {
        var c = new SimCluster(seed: 77, 3, new SimOptions { StorageFactory = Open, SnapshotEvery = 40 });
        try
        {
            c.WaitForLeader();
            for (var i = 0; i < 300; i++)
            {
                c.Propose();
                if (c.Rng.Next(25) == 0)
                {
                    var id = (ulong)c.Rng.Next(1, 4);
                    if (c.Nodes[id].IsUp)
                        c.Crash(id);
                    else
                        c.Restart(id);
                }
                c.RunFor(c.Rng.Next(1, 20));
            }
            // A whole-cluster restart recovers everything from disk.
            foreach (var id in c.Nodes.Keys)
                c.Crash(id);
            c.HealAndCheckLiveness();
            Assert.True(c.Acked.Count > 100, $"only {c.Acked.Count} writes acknowledged");
            var hashes = c.Nodes.Values.Select(n => (n.AppliedIndex, n.AppliedHash)).Distinct().Count();
            Assert.Equal(1, hashes);
        }
        finally
        {
            foreach (var n in c.Nodes.Values)
                (n.Storage as IDisposable)?.Dispose();
        }
    }
}
