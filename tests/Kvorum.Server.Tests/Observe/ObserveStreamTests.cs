using Kvorum.Server.Observe.Wire;
using Kvorum.Server.Tests.Cluster;

namespace Kvorum.Server.Tests.Observe;

/// <summary>
/// <c>kvorum.Observe/Events</c> on a real in-process cluster: a watcher gets the member's exact state first, then its
/// changes and the messages it sends and receives.
/// </summary>
public sealed class ObserveStreamTests
{
    [Fact]
    public async Task A_watcher_of_the_leader_first_gets_its_whole_state()
    {
        await using var cluster = new LocalCluster(3);
        cluster.StartAll();
        using var client = await cluster.ConnectAsync();
        var leader = await LeaderUrlAsync(cluster);

        await using var recorder = new EventRecorder(leader);
        var first = await recorder.WaitForAsync(_ => true);

        var state = first.State;
        Assert.NotNull(state);
        Assert.Equal(first.Member, state.Id);
        Assert.Equal(Role.Leader, state.Role);
        Assert.Equal(state.Id, state.Leader);
        Assert.Equal(state.Id, state.Vote);
        Assert.True(state.Term >= 1);
        Assert.True(state.Commit >= 2 && state.Commit <= state.LastIndex, $"commit {state.Commit}, last {state.LastIndex}");
        Assert.Equal(3, state.Peers.Count);
        Assert.All(state.Peers, p => Assert.True(p.Next > p.Match, $"{p}"));
        // The tail's runs cover the log's last entries in order, and the last run is of the current term (the no-op).
        Assert.NotEmpty(state.LogTail);
        Assert.True(state.LogTail.Zip(state.LogTail.Skip(1)).All(p => p.First.FirstIndex < p.Second.FirstIndex && p.First.Term < p.Second.Term));
        Assert.Equal(state.Term, state.LogTail[^1].Term);
        Assert.Equal(50u, state.TickMs);
        // LocalCluster: 500 ms election timeout, 50 ms ticks: the timeout is drawn from [11, 20] ticks.
        Assert.InRange(state.RandomizedElectionTimeoutTicks, 11u, 20u);
    }

    [Fact]
    public async Task A_stopping_member_ends_its_event_streams_instead_of_waiting_for_them()
    {
        await using var cluster = new LocalCluster(3);
        cluster.StartAll();
        using var client = await cluster.ConnectAsync();
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(cluster.ClientUrl("m2"));
        using var call = new Kvorum.Server.Observe.Wire.Observe.ObserveClient(channel).Events(new EventsRequest());
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var stopping = cluster.StopAsync("m2");
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
        }
        await stopping;
        // The listener would otherwise wait out its 30 s shutdown timeout for the stream, then cut it off.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the member took {clock.Elapsed.TotalSeconds:0.0} s to stop");
    }

    [Fact]
    public async Task A_put_shows_as_an_append_sent_by_the_leader_received_by_a_follower_and_committed_there()
    {
        await using var cluster = new LocalCluster(3);
        cluster.StartAll();
        using var client = await cluster.ConnectAsync();
        var leader = await LeaderUrlAsync(cluster);
        var follower = cluster.Endpoints.Split(',').First(u => u != leader);
        await using var leaderEvents = new EventRecorder(leader);
        await using var followerEvents = new EventRecorder(follower);
        await leaderEvents.WaitForAsync(e => e.State is not null);
        var followerId = (await followerEvents.WaitForAsync(e => e.State is not null)).State.Id;

        var put = await client.PutAsync("observed", "v");
        var index = (ulong)(await StatusAsync(leader)).RaftIndex;

        // The leader sends the same append to both followers: the one to the follower watched here.
        var sent = await leaderEvents.WaitForAsync(e => e.Sent is { Kind: MessageKind.Append, Entries: > 0 } m && m.To == followerId && m.Index + m.Entries >= index);
        var received = await followerEvents.WaitForAsync(e => e.Received is { } m && m.Kind == sent.Sent.Kind && m.Index == sent.Sent.Index && m.Term == sent.Sent.Term && m.From == sent.Sent.From);
        Assert.Equal(received.Member, sent.Sent.To);
        Assert.True(received.Received.Seq >= 1);
        await followerEvents.WaitForAsync(e => e.State is { } s && s.Commit >= index && s.Applied >= index && s.LastIndex >= index);
        // The follower answered, and the leader heard it.
        await leaderEvents.WaitForAsync(e => e.Received is { Kind: MessageKind.AppendResponse, Reject: false } m && m.Index >= index);
        Assert.True(put.Header.Revision > 0);
    }

    [Fact]
    public async Task Sequence_numbers_count_each_link_from_one_and_the_state_is_not_repeated_unchanged()
    {
        await using var cluster = new LocalCluster(3);
        cluster.StartAll();
        using var client = await cluster.ConnectAsync();
        var leader = await LeaderUrlAsync(cluster);
        await using var recorder = new EventRecorder(leader);
        await recorder.WaitForAsync(e => e.Sent is not null);
        await Task.Delay(500);

        var events = recorder.Events;
        foreach (var link in events.Where(e => e.Sent is not null).GroupBy(e => e.Sent.To))
        {
            var seqs = link.Select(e => e.Sent.Seq).ToList();
            Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (ulong)i), seqs);
        }
        var states = events.Where(e => e.State is not null).Select(e => e.State).ToList();
        Assert.All(states.Zip(states.Skip(1)), p => Assert.NotEqual(p.First, p.Second));
    }

    [Fact]
    public async Task The_fault_state_the_lab_writes_for_a_member_is_in_its_first_state_and_each_change_of_it_is_published()
    {
        var file = Path.Combine(Path.GetTempPath(), $"kvorum-labstate-{Guid.NewGuid():N}.faults");
        File.WriteAllText(file, "#1 isolate 1\n");
        try
        {
            await using var cluster = new LocalCluster(1);
            var name = cluster.Options.Keys.Single();
            cluster.Options[name] = cluster.Options[name] with { LabStateFile = file };
            cluster.StartAll();
            using var client = await cluster.ConnectAsync();
            await using var recorder = new EventRecorder(cluster.ClientUrl(name));
            var first = await recorder.WaitForAsync(e => e.State is not null);
            Assert.Equal("#1 isolate 1", first.State.LabFaults);

            File.WriteAllText(file, "#2 cut 1 -> 2 (one way)\n");
            await recorder.WaitForAsync(e => e.State?.LabFaults == "#2 cut 1 -> 2 (one way)");
            File.Delete(file);
            await recorder.WaitForAsync(e => e.State is { LabFaults: "" });
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<Kvorum.Etcd.Api.StatusResponse> StatusAsync(string url)
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(url);
        return await new Kvorum.Etcd.Api.Maintenance.MaintenanceClient(channel).StatusAsync(new Kvorum.Etcd.Api.StatusRequest());
    }

    private static async Task<string> LeaderUrlAsync(LocalCluster cluster)
    {
        foreach (var url in cluster.Endpoints.Split(','))
        {
            var status = await StatusAsync(url);
            if (status.Leader == status.Header.MemberId)
                return url;
        }
        throw new InvalidOperationException("no leader: " + await cluster.DescribeAsync());
    }
}
