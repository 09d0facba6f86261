using dotnet_etcd;
using Etcdserverpb;
using Grpc.Core;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Tests.Cluster;

/// <summary>
/// <c>--quota-backend-bytes</c> through a real etcd client: writes over the quota are refused with etcd's NOSPACE error
/// and alarm, reads, deletes and compactions go on, and writes resume once history is compacted and the alarm disarmed.
/// </summary>
public sealed class QuotaTests
{
    private const long Quota = 64 * 1024;

    [Fact]
    public async Task Writes_over_the_quota_are_refused_with_NOSPACE_until_the_alarm_is_disarmed()
    {
        await using var cluster = new LocalCluster(1);
        var name = cluster.Names.Single();
        cluster.Options[name] = cluster.Options[name] with { QuotaBackendBytes = Quota };
        cluster.StartAll();
        using var client = await cluster.ConnectAsync();

        // Ten keys overwritten with 1 KiB values: every version is kept until compacted, so the store grows by
        // about 1 KiB a put, and the quota is reached after about 60.
        var value = new string('v', 1024);
        RpcException? refused = null;
        var written = 0;
        for (var i = 0; i < 200 && refused is null; i++)
        {
            try
            {
                await client.PutAsync($"k{i % 10}", value);
                written++;
            }
            catch (RpcException e)
            {
                refused = e;
            }
        }
        Assert.NotNull(refused);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal(EtcdErrors.NoSpace.Message, refused.Status.Detail);
        Assert.InRange(written, 50, 64);

        // The alarm is listed, and Status reports it as etcd does.
        var alarms = await client.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get });
        var alarm = Assert.Single(alarms.Alarms);
        Assert.Equal(AlarmType.Nospace, alarm.Alarm);
        var status = await client.StatusAsync(new StatusRequest());
        Assert.Equal($"memberID:{alarm.MemberID} alarm:NOSPACE", Assert.Single(status.Errors));
        Assert.Equal(Quota, status.DbSizeQuota);
        using (var http = new HttpClient())
        {
            var metrics = await http.GetStringAsync(cluster.MetricsUrl(name) + "/metrics");
            Assert.Contains("\nkvorum_alarm_nospace 1\n", metrics, StringComparison.Ordinal);
            Assert.Matches(@"\nkvorum_mvcc_store_bytes (6[0-9]{4})\n", metrics);
            using var health = await http.GetAsync(cluster.MetricsUrl(name) + "/health");
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Equal("{\"health\":\"false\",\"reason\":\"ALARM NOSPACE\"}\n", await health.Content.ReadAsStringAsync());
        }

        // Reads and deletes go on; puts, even small ones, and transactions that put are refused while it is raised.
        Assert.Equal(value, await client.GetValAsync("k0"));
        await client.DeleteAsync("k9");
        await Assert.ThrowsAsync<RpcException>(() => client.PutAsync("small", "x"));
        var txn = new TxnRequest();
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("t"), Value = Google.Protobuf.ByteString.CopyFromUtf8("x") } });
        Assert.Equal(StatusCode.ResourceExhausted, (await Assert.ThrowsAsync<RpcException>(() => client.TransactionAsync(txn))).StatusCode);

        // Compacting frees the history, but the alarm stays until disarmed (etcdctl alarm disarm: DEACTIVATE per alarm listed).
        var revision = (await client.GetAsync("k0")).Header.Revision;
        await client.CompactAsync(new CompactionRequest { Revision = revision });
        await Assert.ThrowsAsync<RpcException>(() => client.PutAsync("small", "x"));
        // As in etcd, a request's own checks come before the alarm: a put without a key is told so.
        var keyless = await Assert.ThrowsAsync<RpcException>(() => client.PutAsync(new PutRequest { Value = Google.Protobuf.ByteString.CopyFromUtf8("x") }));
        Assert.Equal(EtcdErrors.EmptyKey.Message, keyless.Status.Detail);
        var disarmed = await client.AlarmAsync(new AlarmRequest
        {
            Action = AlarmRequest.Types.AlarmAction.Deactivate,
            MemberID = alarm.MemberID,
            Alarm = AlarmType.Nospace,
        });
        Assert.Equal(alarm.MemberID, Assert.Single(disarmed.Alarms).MemberID);

        await client.PutAsync("small", "x");
        Assert.Equal("x", await client.GetValAsync("small"));
        Assert.Empty((await client.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get })).Alarms);
        Assert.Empty((await client.StatusAsync(new StatusRequest())).Errors);
        using (var http = new HttpClient())
            Assert.Equal("{\"health\":\"true\"}\n", await http.GetStringAsync(cluster.MetricsUrl(name) + "/health"));
    }
}
