using System.Diagnostics;
using Google.Protobuf;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Xunit.Abstractions;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// Leases on real processes across a SIGKILL of the leader, with the default timings (100 ms heartbeat, 1000 ms
/// election timeout): leases kept alive through followers and the leader survive it, a lease abandoned just before it
/// expires within TTL + election timeout + failover time, one abandoned afterwards within TTL + 1 s, never before TTL,
/// and the keys of each go at one revision on every member.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class LeaseFailoverProcessTests(ITestOutputHelper output)
{
    private const long TtlSeconds = 5;

    /// <summary>The election timeout <c>kvorum serve</c> runs with by default.</summary>
    internal static readonly TimeSpan ElectionTimeout = TimeSpan.FromMilliseconds(1000);

    /// <summary>
    /// What the test adds to the server's bounds for its own part: the watch event's way to the test, and a test
    /// process that shares 2 loaded cores with three servers.
    /// </summary>
    internal static readonly TimeSpan ObservationAllowance = TimeSpan.FromSeconds(1);

    /// <summary>How long the calls that a failover may interrupt are retried.</summary>
    private static readonly TimeSpan Retrying = TimeSpan.FromSeconds(10);

    private static TimeSpan Since(long from, long to) => TimeSpan.FromSeconds((double)(to - from) / Stopwatch.Frequency);

    [Fact]
    public async Task Leases_kept_alive_survive_a_leader_kill_and_abandoned_ones_expire_within_the_bounds_at_one_revision_everywhere()
    {
        await using var cluster = new ProcessCluster(3);
        cluster.StartAll();
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var names = cluster.Members.Keys.ToList();
        var channels = names.ToDictionary(n => n, n => GrpcChannel.ForAddress(cluster.ClientUrl(n)));
        var watches = new List<DeletionWatch>();
        var killed = "";
        string NextMember(string ended)
        {
            var alive = names.Where(n => n != Volatile.Read(ref killed)).ToList();
            return alive[(alive.IndexOf(ended) + 1) % alive.Count];
        }
        List<GrpcChannel> Alive() => [.. names.Where(n => n != Volatile.Read(ref killed)).Select(n => channels[n])];
        try
        {
            // Six leases with two keys each, kept alive through each member in turn (the leader and both followers).
            var leases = new List<KeptLease>();
            long lastPut = 0;
            for (var i = 0; i < 6; i++)
            {
                var grant = await AnyMember.CallAsync(Alive(), (c, d) =>
                    new Lease.LeaseClient(c).LeaseGrantAsync(new LeaseGrantRequest { TTL = TtlSeconds }, deadline: d).ResponseAsync, Retrying);
                foreach (var key in KeysOf(i))
                {
                    var request = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("v"), Lease = grant.ID };
                    var put = await AnyMember.CallAsync(Alive(), (c, d) => new KV.KVClient(c).PutAsync(request, deadline: d).ResponseAsync, Retrying);
                    lastPut = put.Header.Revision;
                }
                leases.Add(new KeptLease(grant.ID, grant.TTL, channels, names[i % names.Count], NextMember));
            }
            foreach (var n in names)
                watches.Add(await DeletionWatch.OpenAsync(n, channels[n], "lf/", lastPut + 1));
            leases.ForEach(l => l.Start());
            await Poll.UntilAsync(() => leases.All(l => l.LastAck > 0), TimeSpan.FromSeconds(10), "every lease acknowledged");
            await Task.Delay(TimeSpan.FromSeconds(1));

            // Abandon lease 0, then kill the leader: lease 0 expires across the failover.
            await leases[0].StopAsync();
            var killedAt = Stopwatch.GetTimestamp();
            Volatile.Write(ref killed, leader);
            cluster.Kill(leader);
            var successor = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(15), notThis: leader);
            var electedAt = Stopwatch.GetTimestamp();
            var survivors = watches.Where(w => w.Member != leader).ToList();
            var acrossBound = Since(leases[0].LastAck, electedAt) + ElectionTimeout + leases[0].Ttl;
            foreach (var w in survivors)
                Assert.True(await w.WaitForAsync(KeysOf(0), acrossBound + TimeSpan.FromSeconds(10)), $"lease 0's keys not deleted on {w.Member}");
            // The others stay alive for two TTLs after the kill.
            var keptUntil = killedAt + 2 * (long)(leases[0].Ttl.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < keptUntil)
                await Task.Delay(100);

            var alive = leases.Skip(1).ToList();
            foreach (var l in alive)
                output.WriteLine($"lease {l.Id:x} kept alive through {string.Join(' ', l.History)}");
            // The keep-alive streams on the killed leader ended and went on through a survivor.
            Assert.All(alive.Where(l => l.FirstMember == leader),
                l => Assert.True(l.History.Count > 1, $"lease {l.Id:x}'s stream on {leader} never ended"));
            foreach (var l in alive)
            {
                var ttl = await AnyMember.CallAsync(Alive(), (c, d) =>
                    new Lease.LeaseClient(c).LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = l.Id }, deadline: d).ResponseAsync, Retrying);
                Assert.True(ttl.TTL > 0, $"lease {l.Id:x}, kept alive through {string.Join(' ', l.History)}, expired across the failover");
                Assert.Empty(l.Problems);
            }
            var everything = new RangeRequest { Key = ByteString.CopyFromUtf8("lf/"), RangeEnd = ByteString.CopyFromUtf8("lf0") };
            var kept = await AnyMember.CallAsync(Alive(), (c, d) => new KV.KVClient(c).RangeAsync(everything, deadline: d).ResponseAsync, Retrying);
            Assert.Equal(Enumerable.Range(1, 5).SelectMany(KeysOf), kept.Kvs.Select(kv => kv.Key.ToStringUtf8()));
            Assert.All(survivors, w => Assert.Equal(KeysOf(0).Order(), w.Deletions.Keys.Order()));

            var failover = $"across the failover ({leader} killed, {successor} led {Since(killedAt, electedAt).TotalMilliseconds:F0} ms later)";
            var across = CheckExpiry(0, leases[0], survivors, acrossBound, failover);

            // The killed member comes back, and replays the same deletion; then lease 1 is abandoned in a healthy cluster.
            cluster.Start(leader);
            Volatile.Write(ref killed, "");
            await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
            var restarted = await DeletionWatch.OpenAsync(leader, channels[leader], "lf/", lastPut + 1);
            watches.Add(restarted);
            Assert.True(await restarted.WaitForAsync(KeysOf(0), TimeSpan.FromSeconds(30)), $"the restarted {leader} did not replay lease 0's deletion");
            Assert.All(KeysOf(0), k => Assert.Equal(across, restarted.Deletions[k].Revision));

            await leases[1].StopAsync();
            var everyMember = watches.Where(w => w.Member != leader).Append(restarted).ToList();
            var healthyBound = leases[1].Ttl + TimeSpan.FromSeconds(1);
            foreach (var w in everyMember)
                Assert.True(await w.WaitForAsync(KeysOf(1), healthyBound + TimeSpan.FromSeconds(10)), $"lease 1's keys not deleted on {w.Member}");
            CheckExpiry(1, leases[1], everyMember, healthyBound, "in a healthy cluster");

            foreach (var l in leases.Skip(2))
                await l.StopAsync();
        }
        catch
        {
            cluster.WriteLogs(output.WriteLine);
            throw;
        }
        finally
        {
            watches.ForEach(w => w.Dispose());
            foreach (var c in channels.Values)
                c.Dispose();
        }
    }

    private static string[] KeysOf(int lease) => [$"lf/{lease}/a", $"lf/{lease}/b"];

    /// <summary>
    /// Checks that the keys of <paramref name="lease"/> (number <paramref name="index"/>) went at one revision on
    /// every one of <paramref name="watches"/>, no earlier than TTL after its last acknowledged keep-alive was sent
    /// and no later than <paramref name="bound"/> (plus <see cref="ObservationAllowance"/>) after its answer came;
    /// returns that revision.
    /// </summary>
    private long CheckExpiry(int index, KeptLease lease, List<DeletionWatch> watches, TimeSpan bound, string when)
    {
        var deletions = watches.SelectMany(w => KeysOf(index).Select(k => (w.Member, Key: k, Value: w.Deletions[k]))).ToList();
        var revisions = deletions.Select(d => d.Value.Revision).Distinct().ToList();
        var first = deletions.Min(d => d.Value.ArrivedAt);
        var last = deletions.Max(d => d.Value.ArrivedAt);
        var early = Since(lease.LastAckedSend, first) - lease.Ttl;
        var late = Since(lease.LastAck, last) - lease.Ttl;
        var allowed = bound - lease.Ttl;
        output.WriteLine($"lease {lease.Id:x} abandoned {when}: deleted at revision {string.Join(',', revisions)} " +
            $"on {string.Join(',', deletions.Select(d => d.Member).Distinct())}; first seen TTL {early.TotalMilliseconds:+0;-0} ms " +
            $"after the last acknowledged send, last seen TTL {late.TotalMilliseconds:+0;-0} ms after its answer (bound TTL + {allowed.TotalMilliseconds:F0} ms)");
        Assert.Single(revisions);
        Assert.True(early >= TimeSpan.Zero, $"lease {lease.Id:x} expired {-early.TotalMilliseconds:F0} ms before its TTL ran out");
        Assert.True(late <= allowed + ObservationAllowance,
            $"lease {lease.Id:x} expired TTL + {late.TotalMilliseconds:F0} ms after its last keep-alive, bound TTL + {allowed.TotalMilliseconds:F0} ms");
        return revisions[0];
    }
}
