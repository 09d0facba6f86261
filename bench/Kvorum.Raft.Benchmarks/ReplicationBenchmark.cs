using BenchmarkDotNet.Attributes;

namespace Kvorum.Raft.Benchmarks;

/// <summary>
/// A 3-node in-memory cluster driven through the core only (no I/O, no threads): how many entries
/// commit per second, and what each costs in allocations. Each operation proposes
/// <see cref="Concurrency"/> 256-byte entries on the leader, then delivers messages until all commit.
/// </summary>
[MemoryDiagnoser]
public class ReplicationBenchmark
{
    private InMemoryCluster _cluster = null!;
    private ReadOnlyMemory<byte> _payload;

    /// <summary>Proposals outstanding at once before the cluster is driven.</summary>
    [Params(1, 64)]
    public int Concurrency { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = new byte[256];
        _cluster = new InMemoryCluster(3);
        _cluster.ElectLeader();
        // Warm the steady state: grow the lists and windows.
        for (var i = 0; i < 200; i++)
            Run();
    }

    [Benchmark]
    public ulong ProposeAndCommit() => Run();

    private ulong Run()
    {
        for (var i = 0; i < Concurrency; i++)
            _cluster.Leader.Propose(_payload);
        return _cluster.DriveUntilQuiet();
    }
}
