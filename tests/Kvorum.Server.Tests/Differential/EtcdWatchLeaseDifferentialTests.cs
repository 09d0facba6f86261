using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Server.Tests.Cluster;
using Kvorum.Tests.Shared;
using Xunit.Abstractions;

namespace Kvorum.Server.Tests.Differential;

/// <summary>
/// Kvorum against etcd for watches and leases: the same seeded random steps (<see cref="WatchLeaseStepGenerator"/>)
/// go to a one-member etcd and to a 3-member Kvorum cluster. Every KV and Lease answer must be the same (after
/// <see cref="ResponseNormalizer"/>; lease ids the servers chose are mapped, <see cref="LeaseIdMap"/>); every watch,
/// on streams spread over Kvorum's members, must have received the same transcript (<see cref="WatchTranscript"/>):
/// created and cancel answers, and every event with its revisions, kind, key, value, lease and prev_kv.
/// </summary>
/// <remarks>
/// Some answers depend on when a server does something, not on what was asked, and the run waits so that they do not:
/// before a cancel and a compaction, until both servers' watches hold as many items and nothing more comes (a cancel
/// drops events not yet sent; a compaction removes the prev_kv of events not yet read); after a create, until both
/// answered it (a watch from "now" starts at the revision it was created at); and in an expiry phase, until both
/// servers have expired the lease, with nothing else happening meanwhile. Kvorum is started with etcd's default
/// heartbeat and election timeout (100 ms, 1000 ms), so both have the same minimum TTL (⌈1.5 election timeouts⌉ = 2 s).
/// <para>Seeds: <c>KVORUM_DIFF_WL_SEEDS</c> (default 2, seeds 1..N) of <c>KVORUM_DIFF_WL_OPS</c> steps each (default
/// 200); <c>KVORUM_DIFF_WL_SEED=n</c> runs seed n alone. A difference prints the seed, the command that replays it and
/// the steps before it.</para>
/// </remarks>
public sealed class EtcdWatchLeaseDifferentialTests(ITestOutputHelper output)
{
    private const int Streams = 3;

    /// <summary>How far two servers' remaining TTLs for one lease may be apart: they are read at different moments.</summary>
    private const long TtlToleranceSeconds = 3;

    /// <summary>How long both servers' watches must hold still, with equal counts, for the run to count them settled.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(250);

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;

    [SkippableFact]
    public async Task Same_event_streams_and_lease_answers_as_etcd_for_random_watches_and_leases()
    {
        EtcdServerProcess.Require();
        var ops = Setting("KVORUM_DIFF_WL_OPS", 200);
        var one = Setting("KVORUM_DIFF_WL_SEED", 0);
        var seeds = one > 0 ? [one] : Enumerable.Range(1, Setting("KVORUM_DIFF_WL_SEEDS", 2)).ToArray();
        foreach (var seed in seeds)
        {
            var log = new List<string>();
            try
            {
                await RunSeedAsync(seed, ops, log);
            }
            catch (Exception e) when (e is not SkipException)
            {
                output.WriteLine($"seed {seed}, every step:\n{string.Join('\n', log)}");
                throw new InvalidOperationException(
                    $"seed {seed} failed; replay with: KVORUM_DIFF_WL_SEED={seed} KVORUM_DIFF_WL_OPS={ops} dotnet test tests/Kvorum.Server.Tests --filter FullyQualifiedName~EtcdWatchLeaseDifferential\n" +
                    $"{e.Message}\nthe last steps:\n{string.Join('\n', log.TakeLast(25))}", e);
            }
        }
    }

    private async Task RunSeedAsync(int seed, int count, List<string> log)
    {
        await using var etcd = new EtcdServerProcess(FreePorts.Next);
        await using var cluster = new LocalCluster(3, heartbeatMs: 100, electionMs: 1000);
        cluster.StartAll();
        // Both start with one put of the same key, so both are at revision 2 before the first step.
        await FirstPut.WhenReadyAsync(etcd.ClientUrl, () => $"etcd did not start: {etcd.Output}");
        await FirstPut.WhenReadyAsync(cluster.ClientUrl("m1"), () => "Kvorum did not start");
        await using var reference = new ComparedServer("etcd", [etcd.ClientUrl], Streams);
        await using var kvorum = new ComparedServer("Kvorum", [.. cluster.Names.Select(cluster.ClientUrl)], Streams);

        var generator = new WatchLeaseStepGenerator(seed, Streams);
        var random = new Random(seed ^ 0x5A5A5A);
        var member = 0;
        var creates = new Dictionary<(int Stream, int Ordinal), WatchCreateRequest>();
        for (var i = 0; i < count || generator.InExpiryPhase; i++)
        {
            if (i % 25 == 0)
            {
                // Requests go to one member for a stretch: a linearizable read first, so it has applied every write
                // so far before it answers a serializable read.
                member = random.Next(kvorum.Members);
                await kvorum.BarrierAsync(member);
            }
            var step = generator.Next();
            log.Add($"{i}: {step.Describe()}");
            switch (step)
            {
                case RequestStep { Request: var request }:
                    if (request is CompactionRequest)
                        await SettleAsync(reference, kvorum, TimeSpan.FromSeconds(5));
                    generator.Observe(step, await CompareAnswersAsync(reference, kvorum, member, request, i));
                    break;
                case OpenWatchStep open:
                    creates[(open.Stream, open.Ordinal)] = open.Create;
                    await kvorum.BarrierAsync(kvorum.MemberOfStream(open.Stream));
                    await reference.Streams[open.Stream].CreateAsync(open.Create);
                    await kvorum.Streams[open.Stream].CreateAsync(open.Create);
                    await UntilAsync(() => reference.Streams[open.Stream].IsAnswered(open.Ordinal) && kvorum.Streams[open.Stream].IsAnswered(open.Ordinal),
                        TimeSpan.FromSeconds(10), $"step {i}: watch {open.Ordinal} of stream {open.Stream} was not answered by both");
                    break;
                case CancelWatchStep cancel:
                    await CancelAsync(reference, kvorum, cancel);
                    break;
                case AwaitExpiryStep expiry:
                    await UntilExpiredAsync(reference, kvorum, member, expiry.Id);
                    generator.Expired(expiry.Id);
                    break;
            }
        }

        await SettleAsync(reference, kvorum, TimeSpan.FromSeconds(15));
        var events = CompareTranscripts(reference, kvorum, creates);
        output.WriteLine($"seed {seed}: {log.Count} steps answered alike; {creates.Count} watches with {events} events in all, the same on both; " +
            $"{generator.ExpiryPhases} leases left to expire (newest revision {generator.Kv.Revision}, compacted at {generator.Kv.Compacted})");
    }

    /// <summary>Sends a request to both; throws on a difference; returns the reference's answer (null for an error).</summary>
    private static async Task<IMessage?> CompareAnswersAsync(ComparedServer reference, ComparedServer kvorum, int member, IMessage request, int index)
    {
        var e = await reference.CallAsync(0, request);
        var k = await kvorum.CallAsync(member, request);
        if (request is LeaseGrantRequest { ID: 0 } && e.Response is LeaseGrantResponse eg && k.Response is LeaseGrantResponse kg)
            kvorum.Leases.Add(eg.ID, kg.ID);
        var expected = Normalize(reference, request, e);
        var actual = Normalize(kvorum, request, k);
        if (expected.Response is not null && actual.Response is not null)
            actual = actual with { Response = ResponseNormalizer.AlignRemainingTtl(expected.Response, actual.Response, TtlToleranceSeconds) };
        if (!expected.Matches(actual))
        {
            throw new Xunit.Sdk.XunitException(
                $"step {index} ({request.GetType().Name}): {DifferentialAnswer.Shorten(JsonFormatter.Default.Format(request))}\n" +
                $"  etcd:   {expected}\n  Kvorum: {actual}");
        }
        return expected.Response;
    }

    private static DifferentialAnswer Normalize(ComparedServer server, IMessage request, (IMessage? Response, StatusCode Code, string Error) answer) =>
        answer.Response is null
            ? new DifferentialAnswer(null, answer.Code, answer.Error)
            : new DifferentialAnswer(ResponseNormalizer.Normalize(request, server.Leases.ToReference(answer.Response)), StatusCode.OK, "");

    /// <summary>
    /// Cancels a watch on both once their watches have settled. When the watch was still open on the reference, waits
    /// for both cancel answers, so that no later write can reach it; a cancel of a watch that is over gets no answer.
    /// </summary>
    private static async Task CancelAsync(ComparedServer reference, ComparedServer kvorum, CancelWatchStep cancel)
    {
        await SettleAsync(reference, kvorum, TimeSpan.FromSeconds(5));
        await kvorum.BarrierAsync(kvorum.MemberOfStream(cancel.Stream));
        var e = reference.Streams[cancel.Stream];
        var k = kvorum.Streams[cancel.Stream];
        if (!e.IsAnswered(cancel.Ordinal) || !k.IsAnswered(cancel.Ordinal))
            return;
        var open = !e.Transcript(cancel.Ordinal).OfType<WatchResponse>().Any(r => r.Canceled);
        var before = (e.Transcript(cancel.Ordinal).Count, k.Transcript(cancel.Ordinal).Count);
        await e.CancelAsync(cancel.Ordinal);
        await k.CancelAsync(cancel.Ordinal);
        if (open)
        {
            await UntilAsync(() => e.Transcript(cancel.Ordinal).Count > before.Item1 && k.Transcript(cancel.Ordinal).Count > before.Item2,
                TimeSpan.FromSeconds(10), null);
        }
    }

    /// <summary>Waits until neither server has lease <paramref name="id"/> any more; then the member about to be asked has applied its revoke.</summary>
    private static async Task UntilExpiredAsync(ComparedServer reference, ComparedServer kvorum, int member, long id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await reference.RemainingTtlAsync(0, id) != -1 || await kvorum.RemainingTtlAsync(member, id) != -1)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"lease {id} had not expired on both 30 s after its phase began");
            await Task.Delay(100);
        }
        await kvorum.BarrierAsync(member);
    }

    /// <summary>
    /// Waits until every watch holds as many items on both servers and nothing has come for <see cref="Quiet"/>, or
    /// <paramref name="max"/> has passed (a real difference then shows in the comparison).
    /// </summary>
    private static async Task SettleAsync(ComparedServer reference, ComparedServer kvorum, TimeSpan max)
    {
        var deadline = DateTime.UtcNow + max;
        string? last = null;
        var stillSince = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline)
        {
            var e = string.Join(';', reference.Streams.Select(s => string.Join(',', s.Counts())));
            var k = string.Join(';', kvorum.Streams.Select(s => string.Join(',', s.Counts())));
            var now = e + "|" + k;
            if (now != last)
            {
                last = now;
                stillSince = DateTime.UtcNow;
            }
            else if (e == k && DateTime.UtcNow - stillSince >= Quiet)
            {
                return;
            }
            await Task.Delay(50);
        }
    }

    private static async Task UntilAsync(Func<bool> done, TimeSpan max, string? failure)
    {
        var deadline = DateTime.UtcNow + max;
        while (!done())
        {
            if (DateTime.UtcNow > deadline)
            {
                if (failure is null)
                    return;
                throw new TimeoutException(failure);
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Every watch's transcript, the same on both; returns the number of events compared.</summary>
    private static int CompareTranscripts(ComparedServer reference, ComparedServer kvorum, Dictionary<(int Stream, int Ordinal), WatchCreateRequest> creates)
    {
        var events = 0;
        for (var s = 0; s < Streams; s++)
        {
            var (e, k) = (reference.Streams[s], kvorum.Streams[s]);
            if (e.Ended is { } etcdEnd)
                throw new Xunit.Sdk.XunitException($"etcd's watch stream {s} ended: {etcdEnd}");
            if (k.Ended is { } kvorumEnd)
                throw new Xunit.Sdk.XunitException($"Kvorum's watch stream {s} (member {kvorum.MemberOfStream(s)}) ended: {kvorumEnd}");
            foreach (var ((stream, ordinal), create) in creates.Where(c => c.Key.Stream == s).OrderBy(c => c.Key.Ordinal))
            {
                var expected = e.Transcript(ordinal);
                var actual = k.Transcript(ordinal).Select(kvorum.Leases.ToReference).ToList();
                var at = Enumerable.Range(0, Math.Max(expected.Count, actual.Count))
                    .FirstOrDefault(i => i >= expected.Count || i >= actual.Count || !expected[i].Equals(actual[i]), -1);
                if (at >= 0)
                {
                    throw new Xunit.Sdk.XunitException(
                        $"watch {ordinal} of stream {stream} (member {kvorum.MemberOfStream(stream)}), created with {JsonFormatter.Default.Format(create)}: " +
                        $"{expected.Count} items from etcd, {actual.Count} from Kvorum; the first difference at item {at}:\n" +
                        $"  etcd:   {Item(expected, at)}\n  Kvorum: {Item(actual, at)}\n" +
                        $"etcd's transcript:\n{Items(expected)}\nKvorum's transcript:\n{Items(actual)}");
                }
                events += expected.Count(i => i is Event);
            }
        }
        return events;

        static string Items(IReadOnlyList<IMessage> items) => string.Join('\n', Enumerable.Range(0, items.Count).Select(i => $"  {i}: {Item(items, i)}"));

        static string Item(IReadOnlyList<IMessage> items, int i) =>
            i < items.Count ? $"{items[i].GetType().Name} {DifferentialAnswer.Shorten(JsonFormatter.Default.Format(items[i]))}" : "(none)";
    }
}
