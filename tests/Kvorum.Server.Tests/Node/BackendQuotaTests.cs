using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Tests.Transport;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Tests.Node;

/// <summary>The backend quota and its NOSPACE alarm (<see cref="BackendQuota"/>), without a cluster.</summary>
public sealed class BackendQuotaTests
{
    private readonly ListLogger _log = new();

    private static PutRequest Put(string key, int valueBytes) =>
        new() { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(new byte[valueBytes]) };

    private static void AssertNoSpace(Action write)
    {
        var error = Assert.Throws<EtcdException>(write);
        Assert.Equal(EtcdErrors.NoSpace, error.Error);
    }

    [Fact]
    public void A_write_that_would_pass_the_quota_is_refused_and_raises_the_alarm_which_then_refuses_every_write_that_adds()
    {
        var quota = new BackendQuota(1000, _log);
        quota.PublishStoreSize(900);

        quota.CheckQuota(100);
        Assert.False(quota.NoSpaceAlarm);
        AssertNoSpace(() => quota.CheckQuota(101));
        Assert.True(quota.NoSpaceAlarm);
        Assert.Single(_log.Lines, l => l.Level == LogLevel.Warning && l.Text.StartsWith("alarm NOSPACE raised: the store holds 900 bytes", StringComparison.Ordinal));

        AssertNoSpace(() => quota.CheckNoSpaceAlarm(1));
        quota.CheckNoSpaceAlarm(0); // a delete or a compaction goes on
        quota.CheckQuota(0);
        AssertNoSpace(() => quota.CheckQuota(200));
        Assert.Single(_log.Lines, l => l.Level == LogLevel.Warning); // raised once, told once
    }

    [Fact]
    public void The_alarm_stays_until_disarmed_and_disarming_says_so()
    {
        var quota = new BackendQuota(1000, _log);
        Assert.False(quota.SetNoSpaceAlarm(true));
        quota.PublishStoreSize(10); // space freed: the alarm stays
        AssertNoSpace(() => quota.CheckNoSpaceAlarm(5));

        Assert.True(quota.SetNoSpaceAlarm(false));
        quota.CheckNoSpaceAlarm(5);
        quota.CheckQuota(5);
        Assert.Single(_log.Lines, l => l.Level == LogLevel.Information && l.Text == "alarm NOSPACE disarmed: the store holds 10 bytes, its quota is 1000");
    }

    [Fact]
    public void A_put_costs_its_key_value_and_index_entry_and_a_txn_its_larger_branch_nested_ones_included()
    {
        Assert.Equal(3 + 10 + KeyIndex.EntryOverhead, BackendQuota.QuotaCost(Put("abc", 10)));

        var nested = new TxnRequest();
        nested.Success.Add(new RequestOp { RequestPut = Put("n", 100) });
        var txn = new TxnRequest();
        txn.Success.Add(new RequestOp { RequestPut = Put("a", 1) });
        txn.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8("r") } });
        txn.Failure.Add(new RequestOp { RequestPut = Put("b", 2) });
        txn.Failure.Add(new RequestOp { RequestTxn = nested });

        Assert.Equal(BackendQuota.QuotaCost(Put("b", 2)) + BackendQuota.QuotaCost(Put("n", 100)), BackendQuota.QuotaCost(txn));
        Assert.Equal(BackendQuota.QuotaCost(txn), KvorumNode.QuotaCost(txn));
    }

    [Fact]
    public void Only_the_loop_thread_publishes_the_stores_size() =>
        LoopThread.AssertOnlyTheLoopMay(owner => new BackendQuota(1000, _log, owner).PublishStoreSize(1));
}
