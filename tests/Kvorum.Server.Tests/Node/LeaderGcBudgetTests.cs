using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

public sealed class LeaderGcBudgetTests
{
    // A fake runtime: bytes allocated and gen0 collections, which a collection counts.
    private long _allocated;
    private int _collections;
    private LeaderGcBudget Budget(long bytes) => new(bytes, () => _allocated, () => _collections, () => _collections++);

    [Fact]
    public void A_leader_collects_each_time_it_has_allocated_the_budget_since_the_last_collection()
    {
        var budget = Budget(1000);
        var collectedAt = new List<long>();
        for (_allocated = 0; _allocated <= 3500; _allocated += 100)
        {
            if (budget.Tick(isLeader: true))
                collectedAt.Add(_allocated);
        }
        Assert.Equal([1000L, 2000, 3000], collectedAt);
        Assert.Equal(3, _collections);
    }

    [Fact]
    public void A_collection_of_the_runtime_restarts_the_count()
    {
        var budget = Budget(1000);
        _allocated = 0;
        Assert.False(budget.Tick(isLeader: true));
        _allocated = 900;
        _collections++; // the runtime collected at 900
        Assert.False(budget.Tick(isLeader: true));
        _allocated = 1500;
        Assert.False(budget.Tick(isLeader: true));
        _allocated = 1900;
        Assert.True(budget.Tick(isLeader: true));
    }

    [Fact]
    public void A_follower_never_collects_and_a_new_leader_counts_from_its_first_turn()
    {
        var budget = Budget(1000);
        for (_allocated = 0; _allocated <= 5000; _allocated += 100)
            Assert.False(budget.Tick(isLeader: false));

        // Leads from 5,000 on: not at once, though 5,000 bytes were allocated since the last collection.
        _allocated = 5000;
        Assert.False(budget.Tick(isLeader: true));
        _allocated = 5900;
        Assert.False(budget.Tick(isLeader: true));
        _allocated = 6000;
        Assert.True(budget.Tick(isLeader: true));
        Assert.Equal(1, _collections);
    }

    [Fact]
    public void The_budget_must_be_positive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new LeaderGcBudget(0));
}

/// <summary>The budget inside running members: the leader collects under writes, the followers do not.</summary>
public sealed class LeaderGcBudgetNodeTests
{
    [Fact]
    public async Task Under_writes_the_leader_starts_collections_and_the_followers_none()
    {
        // A budget far below what 500 writes allocate (the members share one process, so the leader counts
        // everyone's bytes); the followers' stagger is off.
        await using var cluster = InMemoryCluster.Start(3, gcStaggerEntries: 0, leaderGcBudgetBytes: 256 << 10);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));

        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= 500)
            {
                await leader.ProposeAsync<PutResponse>(
                    new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8($"k{next % 50}"), Value = ByteString.CopyFrom(new byte[256]) } },
                    CancellationToken.None);
            }
        }));

        foreach (var node in cluster.Nodes)
        {
            var collections = Interlocked.Read(ref node.Metrics.LeaderBudgetCollections);
            if (ReferenceEquals(node, leader))
                Assert.True(collections > 0, "the leader started no collection");
            else
                Assert.Equal(0, collections);
        }
    }
}
