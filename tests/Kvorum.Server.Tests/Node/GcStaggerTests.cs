using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

public sealed class GcStaggerTests
{
    private const int Period = 1000;

    /// <summary>Drives a stagger over applied indexes 0, step, 2 step, ...; returns the indexes at which it collected.</summary>
    private static List<ulong> Run(double phase, Func<ulong, bool> isLeaderAt, ulong upTo, ulong step = 10)
    {
        ulong applied = 0;
        var collectedAt = new List<ulong>();
        var stagger = new GcStagger(Period, () => collectedAt.Add(applied));
        var reported = 0;
        for (; applied <= upTo; applied += step)
        {
            if (stagger.Tick(applied, isLeaderAt(applied), phase))
                reported++;
        }
        Assert.Equal(collectedAt.Count, reported);
        return collectedAt;
    }

    [Fact]
    public void A_follower_collects_once_per_period_at_points_shifted_by_its_phase()
    {
        Assert.Equal([1000UL, 2000, 3000, 4000], Run(0, _ => false, 4500));
        Assert.Equal([500UL, 1500, 2500, 3500, 4500], Run(0.5, _ => false, 4500));
    }

    [Fact]
    public void The_followers_of_three_members_collect_half_a_period_apart_whichever_member_leads()
    {
        var members = new ulong[] { 0xC0FFEE, 0x1234, 0xABCDEF01 };
        foreach (var leader in members)
        {
            var followers = members.Where(m => m != leader).ToList();
            var phases = followers.Select(f => GcStagger.PhaseOf(f, members, leader)).Order().ToList();
            Assert.Equal([0, 0.5], phases);

            var first = Run(phases[0], _ => false, 10_000);
            var second = Run(phases[1], _ => false, 10_000);
            foreach (var at in first)
                Assert.All(second, other => Assert.True(Math.Abs((long)at - (long)other) >= Period / 2, $"{at} and {other}"));
        }
    }

    [Fact]
    public void A_leader_leaves_collections_to_the_runtime_and_resumes_when_it_follows_again()
    {
        // Leader from index 1,500 to 3,999.
        var collectedAt = Run(0, at => at is >= 1500 and < 4000, 5500);

        Assert.Equal([1000UL, 4000, 5000], collectedAt);
    }

    [Fact]
    public void A_jump_of_the_applied_index_collects_once()
    {
        ulong applied = 10;
        var collections = 0;
        var stagger = new GcStagger(Period, () => collections++);
        stagger.Tick(applied, false, 0);
        stagger.Tick(50_000, false, 0); // a snapshot installed
        stagger.Tick(50_001, false, 0);

        Assert.Equal(1, collections);
    }

    [Fact]
    public void A_member_missing_from_the_list_takes_phase_zero()
    {
        Assert.Equal(0, GcStagger.PhaseOf(7, [1, 2, 3], leader: 1));
        Assert.Equal(0.5, GcStagger.PhaseOf(3, [3, 1, 3, 2], leader: 2));
    }
}

/// <summary>The stagger inside running members: followers collect on their grid, the leader leaves it to the runtime.</summary>
public sealed class GcStaggerNodeTests
{
    [Fact]
    public async Task Under_writes_each_follower_starts_a_collection_per_period_and_the_leader_none()
    {
        const int writes = 1000, period = 100;
        await using var cluster = InMemoryCluster.Start(3, gcStaggerEntries: period);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));

        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= writes)
            {
                await leader.ProposeAsync<Kvorum.Etcd.Api.PutResponse>(
                    new Kvorum.Server.Node.Wire.InternalRequest { Put = new Kvorum.Etcd.Api.PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("k"), Value = Google.Protobuf.ByteString.CopyFromUtf8("v") } },
                    CancellationToken.None);
            }
        }));
        await Task.Delay(300); // followers apply the last entries

        foreach (var node in cluster.Nodes)
        {
            var staggered = Interlocked.Read(ref node.Metrics.StaggeredCollections);
            if (ReferenceEquals(node, leader))
                Assert.Equal(0, staggered);
            else
                Assert.InRange(staggered, writes / period - 2, writes / period + 2);
        }
    }
}
