using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Xunit.Abstractions;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// Watchers on real processes across a SIGKILL of the leader: the watchers on the killed member resume on a survivor
/// from their last revision + 1, and every watcher ends with exactly the events of its range, as a fresh watch from
/// revision 1 on a survivor tells them. Sizes: <c>KVORUM_WATCH_FAILOVER_WATCHERS</c> (default 1000),
/// <c>KVORUM_WATCH_FAILOVER_STREAMS</c> (20) and <c>KVORUM_WATCH_FAILOVER_PUT_RATE</c> (puts a second, 60).
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class WatchFailoverProcessTests(ITestOutputHelper output)
{
    private static int FromEnvironment(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : fallback;

    /// <summary>The keys the load writes: two groups of four, so that ranges and prefixes cover different parts.</summary>
    private static readonly string[] LoadKeys = [.. Enumerable.Range(0, 8).Select(i => $"wf/{(i < 4 ? 'a' : 'b')}/{i % 4}")];

    /// <summary>Puts acknowledged before the kill, and again after it, before the load stops.</summary>
    private const int LoadOnEachSide = 60;

    /// <summary>Written once the load has stopped; every watched event comes before it.</summary>
    private const string EndKey = "wf/zz";

    /// <summary>Watcher <paramref name="index"/>'s range: one key, two prefixes, a range across both groups, from-key.</summary>
    private static (string Key, string RangeEnd) RangeOf(int index) => (index % 5) switch
    {
        0 => ($"wf/a/{index / 5 % 4}", ""),
        1 => ("wf/a/", "wf/a0"),
        2 => ("wf/", "wf0"),
        3 => ("wf/a/2", "wf/b/2"),
        _ => ("wf/b/", "\0"),
    };

    [Fact]
    public async Task Watchers_that_resume_from_their_last_revision_after_the_leader_is_killed_see_every_event_once_in_order()
    {
        var watcherCount = FromEnvironment("KVORUM_WATCH_FAILOVER_WATCHERS", 1000);
        var streamCount = Math.Min(watcherCount, FromEnvironment("KVORUM_WATCH_FAILOVER_STREAMS", 20));
        var putRate = FromEnvironment("KVORUM_WATCH_FAILOVER_PUT_RATE", 60);
        await using var cluster = new ProcessCluster(3);
        cluster.StartAll();
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var names = cluster.Members.Keys.ToList();
        // Channels of the test's own: the cluster's are not shared between threads.
        var channels = names.ToDictionary(n => n, n => GrpcChannel.ForAddress(cluster.ClientUrl(n)));
        var loadChannels = names.Select(n => (n, GrpcChannel.ForAddress(cluster.ClientUrl(n)))).ToList();
        try
        {
            var load = new RetryingPutLoad(loadChannels, LoadKeys, putRate);
            // A history before the watchers: some of them start in it and replay it first.
            long before = 0;
            for (var i = 0; i < 100; i++)
                before = await load.PutAsync(LoadKeys[i % LoadKeys.Length], $"h{i:D3}", CancellationToken.None) ?? 0;

            var killed = "";
            string NextMember(string ended)
            {
                var alive = names.Where(n => n != Volatile.Read(ref killed)).ToList();
                return alive[(alive.IndexOf(ended) + 1) % alive.Count];
            }
            var random = new Random(21);
            var watchers = Enumerable.Range(0, watcherCount).Select(i =>
            {
                var (key, end) = RangeOf(i);
                var start = random.Next(2) == 0 ? before + 1 : random.Next(1, (int)before + 1);
                return new RecordedWatcher(key, end, start);
            }).ToList();
            var streams = Enumerable.Range(0, streamCount).Select(s => new ResumingWatchStream(
                channels, names[s % names.Count], NextMember,
                [.. watchers.Where((_, i) => i % streamCount == s)])).ToList();

            using var stopWatching = new CancellationTokenSource();
            var watching = streams.Select(s => Task.Run(() => s.RunAsync(stopWatching.Token))).ToList();
            await Poll.UntilAsync(() => streams.All(s => s.Created == s.Watchers.Count), TimeSpan.FromSeconds(30), "every watcher created");

            using var stopLoad = new CancellationTokenSource();
            var loading = Task.Run(() => load.RunAsync(stopLoad.Token));
            // The load's length is not the point, only that it runs on both sides of the kill: a second's worth of
            // puts at the default rate before it and after the new leader, however long a loaded machine takes.
            await Poll.UntilAsync(() => load.Acked.Count >= LoadOnEachSide, TimeSpan.FromSeconds(30), $"{LoadOnEachSide} puts acknowledged before the kill");
            var ackedBeforeKill = load.Acked.Count;
            var clock = Stopwatch.StartNew();
            Volatile.Write(ref killed, leader);
            cluster.Kill(leader);
            var successor = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(15), notThis: leader);
            var failover = clock.Elapsed;
            await Poll.UntilAsync(() => load.Acked.Count - ackedBeforeKill >= LoadOnEachSide, TimeSpan.FromSeconds(30), $"{LoadOnEachSide} puts acknowledged after the kill");
            await stopLoad.CancelAsync();
            await loading;
            var endRevision = await load.PutAsync(EndKey, "end", CancellationToken.None) ?? throw new InvalidOperationException("no end put");

            // The truth: the whole history of the load's keys, watched from revision 1 on each survivor.
            var survivors = names.Where(n => n != leader).ToList();
            var histories = await Task.WhenAll(survivors.Select(n => HistoryAsync(channels[n], endRevision)));
            Assert.Equal(histories[0], histories[1]);
            var truth = histories[0];

            // Each watcher owes the events of its range from its start revision; wait until it has the last one.
            var expected = watchers.ToDictionary(w => w, w => truth.Where(e => w.Covers(e.Key) && e.Revision >= w.StartRevision).ToList());
            await Poll.UntilAsync(() => watchers.All(w => expected[w].Count == 0 || w.LastRevision >= expected[w][^1].Revision),
                TimeSpan.FromSeconds(30), "every watcher caught up");
            await stopWatching.CancelAsync();
            await Task.WhenAll(watching);

            var acked = load.Acked.ToList();
            var events = watchers.Sum(w => w.Events.Count);
            output.WriteLine($"{watcherCount} watchers on {streamCount} streams; killed {leader}, {successor} led after {failover.TotalMilliseconds:F0} ms; " +
                $"{acked.Count} puts acknowledged ({load.Retries} retries), end revision {endRevision}; {events} events delivered");
            foreach (var s in streams.Where(s => s.Resumptions > 0))
                output.WriteLine($"stream on {s.FirstMember}: {string.Join(' ', s.History)}");

            Assert.Empty(streams.SelectMany(s => s.Problems));
            // The streams on the killed member ended and resumed elsewhere; those on the survivors kept their streams.
            Assert.All(streams.Where(s => s.FirstMember == leader), s => Assert.True(s.Resumptions > 0, "a stream on the killed leader never ended"));
            Assert.All(streams.Where(s => s.FirstMember != leader), s => Assert.True(s.Resumptions == 0, $"a stream on {s.FirstMember}: {string.Join(' ', s.History)}"));
            foreach (var w in watchers)
            {
                if (!w.Events.SequenceEqual(expected[w]))
                    Assert.Fail($"watcher {w}: {Difference(expected[w], w.Events)}");
            }
            // Every acknowledged put is in the history, at the revision its answer gave.
            var byRevision = truth.ToDictionary(e => e.Revision);
            Assert.All(acked, a => Assert.True(
                byRevision.TryGetValue(a.Revision, out var e) && e.Key == a.Key && e.Value == a.Value && e.Type == Event.Types.EventType.Put,
                $"acknowledged put {a} is not in the history"));
            // The load ran on both sides of the kill (its rate is what a loaded machine allows, so no more is asked).
            Assert.True(ackedBeforeKill >= 10 && acked.Count - ackedBeforeKill >= 10,
                $"{ackedBeforeKill} puts acknowledged before the kill and {acked.Count - ackedBeforeKill} after");
        }
        catch
        {
            cluster.WriteLogs(output.WriteLine);
            throw;
        }
        finally
        {
            foreach (var c in channels.Values.Concat(loadChannels.Select(c => c.Item2)))
                c.Dispose();
        }
    }

    /// <summary>Every event under <c>wf/</c> up to <paramref name="endRevision"/>, from a new watch from revision 1.</summary>
    private static async Task<List<RecordedWatcher.Seen>> HistoryAsync(GrpcChannel channel, long endRevision)
    {
        var history = new RecordedWatcher("wf/", "wf0", 1);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = new Watch.WatchClient(channel).Watch(cancellationToken: timeout.Token);
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8(history.Key), RangeEnd = ByteString.CopyFromUtf8(history.RangeEnd), StartRevision = 1 },
        });
        while (history.LastRevision < endRevision && await call.ResponseStream.MoveNext(timeout.Token))
        {
            foreach (var e in call.ResponseStream.Current.Events)
                history.Add(e);
        }
        return history.Events;
    }

    /// <summary>Where two event sequences first differ, in a line.</summary>
    private static string Difference(List<RecordedWatcher.Seen> expected, List<RecordedWatcher.Seen> seen)
    {
        var i = 0;
        while (i < expected.Count && i < seen.Count && expected[i] == seen[i])
            i++;
        return $"{seen.Count} events, {expected.Count} expected; first difference at {i}: " +
            $"expected {(i < expected.Count ? expected[i] : "nothing")}, saw {(i < seen.Count ? seen[i] : "nothing")}" +
            $" (previous {(i > 0 ? seen[i - 1] : "none")})";
    }
}
