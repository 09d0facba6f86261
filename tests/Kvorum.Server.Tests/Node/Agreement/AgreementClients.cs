using System.Collections.Concurrent;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node.Agreement;

/// <summary>A put the cluster acknowledged: its key, its value (unique in the run) and the revision it was answered with.</summary>
internal sealed record AckedPut(string Key, string Value, long Revision);

/// <summary>
/// Clients that put random keys (few of them, so each is overwritten often) through random running members, as
/// an application would through any endpoint, and record which puts were acknowledged. A put that fails or takes
/// too long is not recorded: it may or may not have been applied, and nothing is assumed of it. Beside them, a
/// compactor keeps the kept history short, so that a snapshot stays small and one is taken every few dozen entries.
/// </summary>
internal sealed class AgreementClients(ChaosCluster cluster, int seed)
{
    /// <summary>Keys the clients write: few, so that writes to one key interleave across failures.</summary>
    public const int Keys = 12;

    /// <summary>Revisions the compactor keeps behind the newest.</summary>
    private const int KeptRevisions = 20;

    private readonly ConcurrentQueue<AckedPut> _acked = new();
    private int _attempted;

    public IReadOnlyCollection<AckedPut> Acked => _acked;

    public int Attempted => Volatile.Read(ref _attempted);

    /// <summary>Runs <paramref name="clients"/> clients and the compactor until <paramref name="stop"/>, then waits for their last requests.</summary>
    public Task RunAsync(int clients, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => ClientAsync(c, stop), CancellationToken.None))
            .Append(Task.Run(() => CompactorAsync(stop), CancellationToken.None)));

    private async Task ClientAsync(int client, CancellationToken stop)
    {
        var random = new Random(HashCode.Combine(seed, client));
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            // Mostly through the leader; the rest through a member that is not far behind it (a follower forwards, and
            // answers once it has applied the entry, which one cut off from the leader's appends does not do for long:
            // a client of etcd also turns to another endpoint).
            var leader = cluster.SomeLeader();
            var caughtUp = cluster.Running.Select(m => m.Node).OfType<KvorumNode>()
                .Where(n => leader is not null && n.Status.Applied + 20 >= leader.Status.Commit).ToList();
            var node = random.Next(4) > 0 || caughtUp.Count == 0 ? leader : caughtUp[random.Next(caughtUp.Count)];
            if (node is null)
            {
                await Task.Delay(20, CancellationToken.None);
                continue;
            }
            var key = $"k{random.Next(Keys)}";
            var value = $"c{client}-{n}";
            var request = new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } };
            Interlocked.Increment(ref _attempted);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                var response = await node.ProposeAsync<PutResponse>(request, deadline.Token);
                _acked.Enqueue(new AckedPut(key, value, response.Header.Revision));
            }
            catch (EtcdException)
            {
                await Task.Delay(random.Next(10, 60), CancellationToken.None);
            }
        }
    }

    private async Task CompactorAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(200, CancellationToken.None);
            if (cluster.SomeLeader() is not { } leader || leader.Status.Revision <= KeptRevisions)
                continue;
            var compaction = new InternalRequest { Compaction = new CompactionRequest { Revision = leader.Status.Revision - KeptRevisions } };
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await leader.ProposeAsync<CompactionResponse>(compaction, deadline.Token);
            }
            catch (EtcdException)
            {
                // Already compacted further, or no leader: the next round tries again.
            }
        }
    }
}
