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
/// Kvorum against etcd itself: the same seeded random KV requests (<see cref="KvRequestGenerator"/>) go to a
/// one-member etcd and to a 3-member Kvorum cluster, and every answer must be the same, field for field (after
/// <see cref="ResponseNormalizer"/>), errors included (gRPC code and message). At the end, the whole kept history is
/// read back at every revision from both, after every Kvorum member has restarted (from its last snapshot and the
/// log after it; a snapshot is taken every 100 entries). Kvorum's requests go to one member for a stretch, then another, so
/// followers' forwarding and ReadIndex are in the path; serializable reads are on the member that took the writes
/// before them.
/// <para>Seeds: <c>KVORUM_DIFF_SEEDS</c> (default 3, seeds 1..N) of <c>KVORUM_DIFF_OPS</c> requests each (default
/// 400); <c>KVORUM_DIFF_SEED=n</c> runs seed n alone. A mismatch prints the seed and the command that replays it.</para>
/// </summary>
public sealed class EtcdDifferentialTests(ITestOutputHelper output)
{
    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;

    [SkippableFact]
    public async Task Same_answers_as_etcd_for_random_requests()
    {
        EtcdServerProcess.Require();
        var ops = Setting("KVORUM_DIFF_OPS", 400);
        var one = Setting("KVORUM_DIFF_SEED", 0);
        var seeds = one > 0 ? [one] : Enumerable.Range(1, Setting("KVORUM_DIFF_SEEDS", 3)).ToArray();
        foreach (var seed in seeds)
        {
            try
            {
                await RunSeedAsync(seed, ops);
            }
            catch (Exception e) when (e is not SkipException)
            {
                throw new InvalidOperationException(
                    $"seed {seed} failed; replay with: KVORUM_DIFF_SEED={seed} KVORUM_DIFF_OPS={ops} dotnet test tests/Kvorum.Server.Tests --filter FullyQualifiedName~EtcdDifferential\n{e.Message}", e);
            }
        }
    }

    private async Task RunSeedAsync(int seed, int count)
    {
        await using var etcd = new EtcdServerProcess(FreePorts.Next);
        // A snapshot every 100 entries or so: the run crosses several, and the restart below restores from one.
        await using var cluster = new LocalCluster(3, snapshotCount: 100);
        cluster.StartAll();
        using var etcdChannel = GrpcChannel.ForAddress(etcd.ClientUrl);
        var reference = new KV.KVClient(etcdChannel);
        var channels = cluster.Names.Select(n => GrpcChannel.ForAddress(cluster.ClientUrl(n))).ToArray();
        try
        {
            var members = channels.Select(c => new KV.KVClient(c)).ToArray();
            // Both start with one put of the same key, so both are at revision 2 before the first request.
            await FirstPut.WhenReadyAsync(etcd.ClientUrl, () => $"etcd did not start: {etcd.Output}");
            await FirstPut.WhenReadyAsync(cluster.ClientUrl("m1"), () => "Kvorum did not start");

            var generator = new KvRequestGenerator(seed);
            var random = new Random(seed ^ 0x5A5A5A);
            var member = members[0];
            for (var i = 0; i < count; i++)
            {
                if (i % 25 == 0)
                {
                    member = members[random.Next(members.Length)];
                    // A linearizable read first, so this member has applied every write so far before it answers a
                    // serializable read.
                    await member.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("__ready") });
                }
                var request = generator.Next();
                var expected = await CallAsync(reference, request);
                var actual = await CallAsync(member, request);
                Compare(seed, i, request, expected, actual);
                if (expected.Response?.GetType().GetProperty("Header")?.GetValue(expected.Response) is ResponseHeader header)
                    generator.Revision = Math.Max(generator.Revision, header.Revision);
                if (request is CompactionRequest compaction && expected.Response is not null)
                    generator.Compacted = compaction.Revision;
            }

            // Restart every member: each comes back from its last snapshot plus the log after it, and must hold the
            // same history as before.
            foreach (var name in cluster.Names.ToList())
                await cluster.StopAsync(name);
            cluster.StartAll();
            foreach (var m in members)
                await ReadyAfterRestartAsync(m, cluster);

            // The whole kept history, revision by revision, from both.
            var newest = generator.Revision;
            var checkedRevisions = 0;
            for (var revision = Math.Max(1, generator.Compacted); revision <= newest; revision++)
            {
                var all = new RangeRequest { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0), Revision = revision };
                Compare(seed, count + checkedRevisions, all, await CallAsync(reference, all), await CallAsync(members[checkedRevisions % members.Length], all));
                checkedRevisions++;
            }
            output.WriteLine($"seed {seed}: {count} requests and {checkedRevisions} revisions of history answered alike (newest revision {newest}, compacted at {generator.Compacted})");
        }
        finally
        {
            foreach (var c in channels)
                c.Dispose();
        }
    }

    private static async Task ReadyAfterRestartAsync(KV.KVClient member, LocalCluster cluster)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                await member.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("__ready") }, deadline: DateTime.UtcNow.AddSeconds(2));
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            catch (RpcException e)
            {
                throw new TimeoutException($"a member did not answer after the restart ({e.Status}): {await cluster.DescribeAsync()}", e);
            }
        }
    }

    private static async Task<DifferentialAnswer> CallAsync(KV.KVClient client, IMessage request)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        try
        {
            IMessage response = request switch
            {
                RangeRequest r => await client.RangeAsync(r, deadline: deadline),
                PutRequest p => await client.PutAsync(p, deadline: deadline),
                DeleteRangeRequest d => await client.DeleteRangeAsync(d, deadline: deadline),
                TxnRequest t => await client.TxnAsync(t, deadline: deadline),
                CompactionRequest c => await client.CompactAsync(c, deadline: deadline),
                _ => throw new ArgumentException($"not a KV request: {request.GetType().Name}", nameof(request)),
            };
            return new DifferentialAnswer(ResponseNormalizer.Normalize(request, response), StatusCode.OK, "");
        }
        catch (RpcException e)
        {
            return new DifferentialAnswer(null, e.StatusCode, e.Status.Detail);
        }
    }

    private static void Compare(int seed, int index, IMessage request, DifferentialAnswer expected, DifferentialAnswer actual)
    {
        if (!expected.Matches(actual))
        {
            throw new Xunit.Sdk.XunitException(
                $"seed {seed}, request {index} ({request.GetType().Name}): {DifferentialAnswer.Shorten(JsonFormatter.Default.Format(request))}\n" +
                $"  etcd:   {expected}\n  Kvorum: {actual}");
        }
    }
}
