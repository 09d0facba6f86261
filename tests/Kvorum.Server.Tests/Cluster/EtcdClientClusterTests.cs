using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Tests.Cluster;

/// <summary>A real 3-member cluster on loopback, driven by dotnet-etcd, a real etcd client library.</summary>
public sealed class EtcdClientClusterTests(SharedCluster shared) : IClassFixture<SharedCluster>
{
    // One cluster for the class: its tests use keys of their own, and the one that adds a member removes it again.
    private readonly LocalCluster _cluster = shared.Cluster;
    private readonly EtcdClient _client = shared.Client;

    [Fact]
    public async Task Put_get_range_and_delete_through_every_member()
    {
        foreach (var name in _cluster.Names)
        {
            using var member = new EtcdClient(_cluster.ClientUrl(name));
            await member.PutAsync($"fruit/{name}", $"value-{name}");
        }
        foreach (var name in _cluster.Names)
        {
            using var member = new EtcdClient(_cluster.ClientUrl(name));
            // Linearizable reads on every member (followers too) see every acknowledged write.
            var all = await member.GetRangeValAsync("fruit/");
            Assert.Equal(3, all.Count);
            Assert.Equal("value-m2", await member.GetValAsync("fruit/m2"));
        }
        await _client.DeleteAsync("fruit/m1");
        Assert.Equal("", await _client.GetValAsync("fruit/m1"));
        var rest = await _client.GetRangeValAsync("fruit/");
        Assert.Equal(2, rest.Count);
    }

    [Fact]
    public async Task Txn_compare_and_set_on_ModRevision()
    {
        var put = await _client.PutAsync("cas", "a");
        var rev = put.Header.Revision;
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare
        {
            Key = ByteString.CopyFromUtf8("cas"),
            Target = Compare.Types.CompareTarget.Mod,
            Result = Compare.Types.CompareResult.Equal,
            ModRevision = rev,
        });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("cas"), Value = ByteString.CopyFromUtf8("b") } });
        var first = await _client.TransactionAsync(txn);
        Assert.True(first.Succeeded);
        var second = await _client.TransactionAsync(txn);
        Assert.False(second.Succeeded);
        Assert.Equal("b", await _client.GetValAsync("cas"));
    }

    [Fact]
    public async Task A_read_only_txn_is_answered_without_Raft_and_sees_the_latest_write_on_a_follower()
    {
        await _client.PutAsync("ro", "v1");
        EtcdClient? member = null;
        foreach (var name in _cluster.Names)
        {
            var candidate = new EtcdClient(_cluster.ClientUrl(name));
            var own = await candidate.StatusAsync(new StatusRequest());
            if (member is null && own.Leader != own.Header.MemberId)
                member = candidate;
            else
                candidate.Dispose();
        }
        Assert.NotNull(member);
        using var _ = member;
        var before = (await member.StatusAsync(new StatusRequest())).RaftIndex;

        for (var i = 0; i < 20; i++)
        {
            await _client.PutAsync("ro", $"v{i + 2}"); // through the first endpoint
            var txn = new TxnRequest();
            txn.Compare.Add(new Compare
            {
                Key = ByteString.CopyFromUtf8("ro"),
                Target = Compare.Types.CompareTarget.Value,
                Result = Compare.Types.CompareResult.Equal,
                Value = ByteString.CopyFromUtf8("nope"),
            });
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("never"), Value = ByteString.CopyFromUtf8("x") } });
            txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8("ro") } });
            // A success branch that writes makes the txn a write; only the failure branch runs here.
            var write = await member.TransactionAsync(txn);
            Assert.False(write.Succeeded);

            var read = new TxnRequest();
            read.Compare.Add(txn.Compare[0]);
            read.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8("ro") } });
            var response = await member.TransactionAsync(read);
            Assert.False(response.Succeeded);
            Assert.Equal($"v{i + 2}", response.Responses[0].ResponseRange.Kvs[0].Value.ToStringUtf8());
            Assert.Equal(response.Header.Revision, write.Header.Revision); // neither txn wrote
        }

        // 20 puts and 20 writing txns went through the log; the 20 read-only txns did not.
        // RaftIndex is the member's commit index, which a follower learns with the leader's next message.
        var after = (await member.StatusAsync(new StatusRequest())).RaftIndex;
        for (var wait = 0; wait < 40 && after - before < 40; wait++)
        {
            await Task.Delay(50);
            after = (await member.StatusAsync(new StatusRequest())).RaftIndex;
        }
        Assert.InRange(after - before, 40ul, 45ul);
    }

    [Fact]
    public async Task MemberList_shows_three_members_with_URLs()
    {
        var list = await _client.MemberListAsync(new MemberListRequest());
        Assert.Equal(3, list.Members.Count);
        Assert.All(list.Members, m => Assert.NotEmpty(m.PeerURLs));
        // Members publish their client URLs through the log once they run.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (list.Members.Any(m => m.ClientURLs.Count == 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            list = await _client.MemberListAsync(new MemberListRequest());
        }
        Assert.All(list.Members, m => Assert.NotEmpty(m.ClientURLs));
        Assert.All(list.Members, m => Assert.StartsWith("m", m.Name));
    }

    [Fact]
    public async Task HashKV_is_equal_on_every_member_and_unsupported_calls_say_why()
    {
        long revision = 0;
        for (var i = 0; i < 20; i++)
            revision = (await _client.PutAsync($"hashed/{i % 7}", $"v{i}")).Header.Revision;

        var hashes = new List<uint>();
        foreach (var name in _cluster.Names)
        {
            using var member = new EtcdClient(_cluster.ClientUrl(name));
            // A follower that has not applied the revision yet answers "future revision": ask again.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (true)
            {
                try
                {
                    var response = await member.HashKVAsync(new HashKVRequest { Revision = revision });
                    Assert.Equal(revision, response.HashRevision);
                    hashes.Add(response.Hash);
                    break;
                }
                catch (Grpc.Core.RpcException e) when (e.Status.Detail.Contains("future revision", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }
            }
        }
        Assert.Equal(3, hashes.Count);
        Assert.Single(hashes.Distinct());

        var hash = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => _client.HashAsync(new HashRequest()));
        Assert.Equal(Grpc.Core.StatusCode.Unimplemented, hash.StatusCode);
        Assert.Contains("use HashKV", hash.Status.Detail, StringComparison.Ordinal);
        var lease = await _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = 10 });
        Assert.NotEqual(0, lease.ID);
        Assert.Equal(10, lease.TTL);
    }

    [Fact]
    public async Task Metrics_and_health_over_HTTP1_on_the_metrics_URL()
    {
        await _client.PutAsync("metered", "1");
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version11 };
        var body = await http.GetStringAsync(_cluster.MetricsUrl("m1") + "/metrics");
        foreach (var name in new[]
        {
            "kvorum_raft_term", "kvorum_raft_leader_changes_total", "kvorum_raft_commit_index", "kvorum_raft_applied_index",
            "kvorum_proposals_submitted_total", "kvorum_wal_fsync_duration_seconds_bucket", "kvorum_apply_duration_seconds_count",
            "kvorum_peer_send_failures_total", "kvorum_gc_staggered_collections_total", "kvorum_gc_leader_budget_collections_total",
            "kvorum_read_index_requests_total", "kvorum_linearizable_reads_total",
        })
        {
            Assert.Contains(name, body, StringComparison.Ordinal);
        }
        // Replication traffic by message type: a leader sends appends, a follower answers them; every sample of a
        // family follows its TYPE line (Prometheus text format).
        var lines = body.Split('\n');
        long Sample(string series) => long.Parse(lines.Single(l => l.StartsWith(series + " ", StringComparison.Ordinal)).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Sample("kvorum_peer_messages_sent_total{type=\"Append\"}") + Sample("kvorum_peer_messages_sent_total{type=\"AppendResponse\"}") > 0);
        Assert.True(Sample("kvorum_peer_messages_received_total{type=\"Append\"}") + Sample("kvorum_peer_messages_received_total{type=\"AppendResponse\"}") > 0);
        var family = Array.IndexOf(lines, "# TYPE kvorum_peer_messages_sent_total counter");
        Assert.True(family > 0);
        Assert.All(lines.Skip(family + 1).TakeWhile(l => !l.StartsWith('#')), l => Assert.StartsWith("kvorum_peer_messages_sent_total{type=", l, StringComparison.Ordinal));
        var fsyncs = body.Split('\n').Single(l => l.StartsWith("kvorum_wal_fsync_duration_seconds_count ", StringComparison.Ordinal));
        Assert.True(long.Parse(fsyncs.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) > 0, fsyncs);
        // Health follows whether a leader is known, which can flicker on a loaded machine: allow a few seconds.
        var health = await http.GetAsync(_cluster.MetricsUrl("m2") + "/health");
        for (var i = 0; i < 50 && health.StatusCode != System.Net.HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
            health.Dispose();
            health = await http.GetAsync(_cluster.MetricsUrl("m2") + "/health");
        }
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("\"health\":\"true\"", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_Range_gets_etcds_InvalidArgument_and_the_cluster_keeps_serving()
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(_cluster.ClientUrl("m1"));
        var kv = new Kvorum.Etcd.Api.KV.KVClient(channel);
        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await kv.RangeAsync(new Kvorum.Etcd.Api.RangeRequest()));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal(EtcdErrors.EmptyKey.Message, e.Status.Detail);
        // A linearizable read needs a leader; on a loaded machine an election can be under way, and then the
        // answer is "no leader" (Unavailable), which a client retries. The error under test comes after it.
        var future = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => RetryWhileUnavailable(async () => await kv.RangeAsync(new Kvorum.Etcd.Api.RangeRequest { Key = ByteString.CopyFromUtf8("a"), Revision = 1_000_000 })));
        Assert.Equal(Grpc.Core.StatusCode.OutOfRange, future.StatusCode);
        Assert.Equal(EtcdErrors.FutureRevision.Message, future.Status.Detail);
        await _client.PutAsync("after-bad-input", "ok");
        Assert.Equal("ok", await _client.GetValAsync("after-bad-input"));
    }

    private static async Task RetryWhileUnavailable(Func<Task> call)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                await call();
                return;
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>
    /// Member updates answer as etcd's: an unknown id is "member not found", and a peer URL another member has is
    /// refused (found by comparing with etcd: Kvorum used to accept it, and two members then shared one URL).
    /// </summary>
    [Fact]
    public async Task MemberUpdate_refuses_unknown_members_and_taken_peer_URLs()
    {
        var members = (await _client.MemberListAsync(new MemberListRequest())).Members;
        var (first, second) = (members[0], members[1]);

        var unknown = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() =>
            _client.MemberUpdateAsync(new MemberUpdateRequest { ID = 1234, PeerURLs = { "http://127.0.0.1:1" } }));
        Assert.Equal((Grpc.Core.StatusCode.NotFound, EtcdErrors.MemberNotFound.Message), (unknown.StatusCode, unknown.Status.Detail));

        var taken = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() =>
            _client.MemberUpdateAsync(new MemberUpdateRequest { ID = first.ID, PeerURLs = { second.PeerURLs[0] } }));
        Assert.Equal((Grpc.Core.StatusCode.FailedPrecondition, EtcdErrors.PeerUrlExists.Message), (taken.StatusCode, taken.Status.Detail));
        var added = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() =>
            _client.MemberAddAsync(new MemberAddRequest { PeerURLs = { second.PeerURLs[0] }, IsLearner = true }));
        Assert.Equal(EtcdErrors.PeerUrlExists.Message, added.Status.Detail);

        // Its own URL again is fine, and nothing changed.
        await _client.MemberUpdateAsync(new MemberUpdateRequest { ID = first.ID, PeerURLs = { first.PeerURLs[0] } });
        var after = (await _client.MemberListAsync(new MemberListRequest())).Members;
        Assert.Equal(members.Select(m => (m.ID, m.PeerURLs[0])), after.Select(m => (m.ID, m.PeerURLs[0])));
    }

    /// <summary>
    /// As etcd's: MoveLeader to a member the cluster does not have, or to a learner, is FailedPrecondition
    /// "bad leader transferee" on the leader (etcd's rpctypes), and leadership stays where it was.
    /// </summary>
    [Fact]
    public async Task MoveLeader_to_a_stranger_or_a_learner_is_a_bad_leader_transferee()
    {
        var status = await _client.StatusAsync(new StatusRequest());
        var leader = (await _client.MemberListAsync(new MemberListRequest())).Members.Single(m => m.ID == status.Leader);
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(leader.ClientURLs[0]);
        var maintenance = new Maintenance.MaintenanceClient(channel);

        var stranger = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() =>
            maintenance.MoveLeaderAsync(new MoveLeaderRequest { TargetID = 0x1234 }).ResponseAsync);
        Assert.Equal((Grpc.Core.StatusCode.FailedPrecondition, "etcdserver: bad leader transferee"), (stranger.StatusCode, stranger.Status.Detail));

        var learner = (await _client.MemberAddAsync(new MemberAddRequest { PeerURLs = { "http://127.0.0.1:9" }, IsLearner = true })).Member;
        try
        {
            var toLearner = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() =>
                maintenance.MoveLeaderAsync(new MoveLeaderRequest { TargetID = learner.ID }).ResponseAsync);
            Assert.Equal((Grpc.Core.StatusCode.FailedPrecondition, "etcdserver: bad leader transferee"), (toLearner.StatusCode, toLearner.Status.Detail));
            Assert.Equal(status.Leader, (await _client.StatusAsync(new StatusRequest())).Leader);
        }
        finally
        {
            await _client.MemberRemoveAsync(new MemberRemoveRequest { ID = learner.ID });
        }
    }

    /// <summary>No lease exists (the Lease service is not built yet), so a put naming one fails as etcd's does.</summary>
    [Fact]
    public async Task A_Put_with_an_unknown_lease_is_LeaseNotFound()
    {
        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() =>
            _client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("leased"), Value = ByteString.CopyFromUtf8("v"), Lease = 42 }));
        Assert.Equal(Grpc.Core.StatusCode.NotFound, e.StatusCode);
        Assert.Equal(EtcdErrors.LeaseNotFound.Message, e.Status.Detail);
        Assert.Empty((await _client.GetAsync("leased")).Kvs);
    }

    /// <summary>As in etcd, a request's own checks come before the size limit on what is proposed.</summary>
    [Fact]
    public async Task An_oversized_invalid_request_gets_the_validation_error()
    {
        var put = new PutRequest { Key = ByteString.Empty, Value = ByteString.CopyFrom(new byte[1600 * 1024]) };
        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => _client.PutAsync(put));
        Assert.Equal(EtcdErrors.EmptyKey.Message, e.Status.Detail);
    }

    [Fact]
    public async Task An_oversized_value_is_rejected_with_etcds_error_and_the_cluster_keeps_serving()
    {
        // Over the request limit (1.5 MiB): etcd's error. Over the limit plus 512 KiB: refused by gRPC before it is read, as etcd's.
        var big = new string('x', 1600 * 1024);
        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => _client.PutAsync("big", big));
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal(EtcdErrors.RequestTooLarge.Message, e.Status.Detail);
        var huge = new string('x', 2200 * 1024);
        var h = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => _client.PutAsync("huge", huge));
        Assert.Equal(Grpc.Core.StatusCode.ResourceExhausted, h.StatusCode);
        await _client.PutAsync("small", "ok");
        Assert.Equal("ok", await _client.GetValAsync("small"));
    }
}
