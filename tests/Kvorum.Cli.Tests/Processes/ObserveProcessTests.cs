using Grpc.Core;
using Kvorum.Server.Observe.Wire;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// The event stream of real member processes: a watcher of each of three members sees the leader killed, and on the
/// survivors a new leader of a higher term.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class ObserveProcessTests
{
    [Fact]
    public async Task Watchers_of_three_members_see_a_new_leader_of_a_higher_term_on_the_survivors_when_the_leader_is_killed()
    {
        await using var cluster = new ProcessCluster(3);
        cluster.StartAll();
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        using var stop = new CancellationTokenSource();
        var states = cluster.Members.Keys.ToDictionary(n => n, _ => new List<MemberState>());
        var readers = cluster.Members.Keys.Select(n => RecordStatesAsync(cluster, n, states[n], stop.Token)).ToList();
        var before = await WaitForAsync(states[leader], s => s.Role == Role.Leader);
        foreach (var name in cluster.Members.Keys)
            await WaitForAsync(states[name], s => s.Leader == before.Id && s.Term == before.Term);

        cluster.Kill(leader);

        foreach (var survivor in cluster.Members.Keys.Where(n => n != leader))
        {
            var after = await WaitForAsync(states[survivor], s => s.Leader != 0 && s.Leader != before.Id);
            Assert.True(after.Term > before.Term, $"{survivor}: leader {after.Leader:x} in term {after.Term}, old term {before.Term}");
        }
        // The killed member's stream ended with it; its last state still says it led.
        lock (states[leader])
            Assert.Equal(Role.Leader, states[leader][^1].Role);
        await stop.CancelAsync();
        await Task.WhenAll(readers);
    }

    private static async Task RecordStatesAsync(ProcessCluster cluster, string name, List<MemberState> into, CancellationToken stop)
    {
        try
        {
            using var call = new Observe.ObserveClient(cluster.Channel(name)).Events(new EventsRequest(), cancellationToken: stop);
            await foreach (var e in call.ResponseStream.ReadAllAsync(stop))
            {
                if (e.State is { } state)
                {
                    lock (into)
                        into.Add(state);
                }
            }
        }
        catch (RpcException)
        {
            // Cancelled, or the member was killed.
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<MemberState> WaitForAsync(List<MemberState> states, Func<MemberState, bool> match)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            lock (states)
            {
                if (states.FirstOrDefault(match) is { } found)
                    return found;
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"no such state among {states.Count}; last: {states.LastOrDefault()}");
            }
            await Task.Delay(20);
        }
    }
}
