using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node.Agreement;

/// <summary>
/// The faults of a run, drawn from the seed's <see cref="Random"/> every few hundred milliseconds: partitions,
/// isolations, one-way cuts, loss, a follower's appends lost (so it lives on snapshots), restarts, leadership
/// transfers and membership changes (learners added, promoted and removed, voters added and removed, never the
/// last one). The draws replay with the seed; the timing of the threads does not, so a replay explores the same
/// faults in the same order, not the same interleaving.
/// </summary>
internal sealed class AgreementNemesis(ChaosCluster cluster, Random random, Action<string> log)
{
    private const int MaxVoters = 5;
    private const int MaxLearners = 2;

    public int Transfers { get; private set; }

    public int MembershipChanges { get; private set; }

    /// <summary>Runs faults until <paramref name="duration"/> has passed.</summary>
    public async Task RunAsync(TimeSpan duration)
    {
        var end = DateTime.UtcNow + duration;
        while (DateTime.UtcNow < end)
        {
            await Task.Delay(random.Next(100, 400));
            EndLags();
            await ReapAsync();
            await StepAsync();
        }
    }

    // Followers cut off from appends, and until when.
    private readonly Dictionary<ulong, DateTime> _lags = [];

    private void EndLags(bool all = false)
    {
        foreach (var (id, until) in _lags.Where(l => all || l.Value <= DateTime.UtcNow).ToList())
        {
            cluster.Network.LoseAppendsTo(id, 0);
            cluster.Network.LoseSnapshotsTo(id, 0);
            _lags.Remove(id);
        }
    }

    /// <summary>Stops the members that applied their own removal (the change was not acknowledged to the nemesis).</summary>
    public async Task ReapAsync()
    {
        foreach (var m in cluster.Members)
        {
            if (m.Node is { Removed: true })
            {
                log($"{m.Name} applied its own removal; stopped");
                await cluster.StopForGoodAsync(m);
            }
        }
    }

    private async Task StepAsync()
    {
        var running = cluster.Running;
        var ids = running.Select(m => m.Id).ToArray();
        var roll = random.Next(100);
        switch (roll)
        {
            case < 12:
                cluster.Network.HealLinks();
                log("heal links");
                break;
            case < 20 when ids.Length >= 2:
                var shuffled = ids.OrderBy(_ => random.Next()).ToArray();
                var split = random.Next(1, shuffled.Length);
                cluster.Network.Cut(shuffled[..split], shuffled[split..]);
                log($"partition {Names(shuffled[..split])} / {Names(shuffled[split..])}");
                break;
            case < 26 when ids.Length >= 2:
                var alone = Pick(running);
                cluster.Network.Cut([alone.Id], ids);
                log($"isolate {alone.Name}");
                break;
            case < 30 when ids.Length >= 2:
                var from = Pick(running);
                var to = Pick(running.Where(m => m != from).ToList());
                cluster.Network.Cut([from.Id], [to.Id], oneWay: true);
                log($"cut {from.Name} -> {to.Name}");
                break;
            case < 36:
                var loss = random.Next(2, 20);
                cluster.Network.Loss(loss);
                log($"loss {loss}%");
                break;
            case < 56 when running.Any(m => m.Node!.Status.Role != Raft.StateRole.Leader):
                var lagging = Pick(running.Where(m => m.Node!.Status.Role != Raft.StateRole.Leader).ToList());
                // Mostly all of them: the leader's log soon no longer reaches back to the follower, which then
                // lives on snapshots (some of which fail, and are sent again) until this ends. (With some appends
                // getting through, the follower mostly catches up from the log.)
                var appendLoss = random.Next(4) > 0 ? 100 : random.Next(50, 100);
                var snapshotLoss = random.Next(0, 80);
                var lasting = TimeSpan.FromMilliseconds(random.Next(1000, 5000));
                // One at a time: with appends lost to several followers, the others could be too few to commit.
                EndLags(all: true);
                cluster.Network.LoseAppendsTo(lagging.Id, appendLoss);
                cluster.Network.LoseSnapshotsTo(lagging.Id, snapshotLoss);
                _lags[lagging.Id] = DateTime.UtcNow + lasting;
                log($"lose {appendLoss}% of appends and {snapshotLoss}% of snapshots to {lagging.Name} for {lasting.TotalMilliseconds} ms");
                break;
            case < 66 when running.Count >= 1:
                var restarted = Pick(running);
                var down = TimeSpan.FromMilliseconds(random.Next(20, 600));
                log($"restart {restarted.Name} ({(restarted.Node!.Status.Role == Raft.StateRole.Leader ? "leader, " : "")}down {down.TotalMilliseconds} ms)");
                await cluster.RestartAsync(restarted, down);
                break;
            case < 78:
                await TransferAsync();
                break;
            case < 100:
                await ChangeMembershipAsync(roll);
                break;
        }
    }

    private async Task TransferAsync()
    {
        if (cluster.SomeLeader() is not { } leader)
            return;
        var members = await TableAsync(leader);
        var voters = members.Where(m => !m.IsLearner && m.ID != leader.MemberId).ToList();
        if (voters.Count == 0)
            return;
        var target = voters[random.Next(voters.Count)].ID;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await leader.MoveLeaderAsync(target, deadline.Token);
            Transfers++;
            log($"leadership moved to {target:x}");
        }
        catch (Exception e) when (e is EtcdException or OperationCanceledException)
        {
            log($"leadership transfer to {target:x} failed: {e.Message}");
        }
    }

    /// <summary>One membership change, decided on the member table of a member that leads, and proposed there.</summary>
    private async Task ChangeMembershipAsync(int roll)
    {
        if (cluster.SomeLeader() is not { } leader)
            return;
        var table = await TableAsync(leader);
        if (table.Length == 0)
            return;
        var known = cluster.Members.ToDictionary(m => m.Id);
        var voters = table.Count(m => !m.IsLearner);
        var learners = table.Where(m => m.IsLearner && known.ContainsKey(m.ID)).ToList();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        MembershipChanges++;
        if (roll < 84 && learners.Count < MaxLearners)
        {
            var (member, ok) = await cluster.AddAsync(leader, learner: true, deadline.Token);
            log($"add learner {member.Name}: {Outcome(ok)}");
        }
        else if (roll < 89 && learners.Count > 0)
        {
            var learner = known[learners[random.Next(learners.Count)].ID];
            log($"promote {learner.Name}: {Outcome(await cluster.PromoteAsync(leader, learner, deadline.Token))}");
        }
        else if (roll < 92 && voters < MaxVoters)
        {
            var (member, ok) = await cluster.AddAsync(leader, learner: false, deadline.Token);
            log($"add voter {member.Name}: {Outcome(ok)}");
        }
        else
        {
            // Never the last voter: the table of a leader with no conf change pending is the configuration the
            // removal is decided on (one change at a time), so at least one voter stays.
            var removable = table.Where(m => known.ContainsKey(m.ID) && (m.IsLearner || voters >= 2)).ToList();
            if (removable.Count == 0)
                return;
            var victim = known[removable[random.Next(removable.Count)].ID];
            log($"remove {victim.Name}{(victim.Id == leader.MemberId ? " (the leader)" : "")}: {Outcome(await cluster.RemoveAsync(leader, victim, deadline.Token))}");
        }
    }

    private static async Task<Member[]> TableAsync(KvorumNode node)
    {
        try
        {
            return await node.MembersAsync().WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (Exception e) when (e is EtcdException or TimeoutException)
        {
            return [];
        }
    }

    private static string Outcome(bool acknowledged) => acknowledged ? "acknowledged" : "not acknowledged";

    private T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private string Names(IEnumerable<ulong> ids)
    {
        var byId = cluster.Members.ToDictionary(m => m.Id, m => m.Name);
        return string.Join(',', ids.Select(id => byId.GetValueOrDefault(id, $"{id:x}")));
    }
}
