using Google.Protobuf;
using Kvorum.Cli.Client;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Tests;

/// <summary>The lease ids, lease answers and watch answers as etcdctl prints them (texts seen from etcdctl 3.4.23).</summary>
public class LeaseAndWatchOutputTests
{
    private static readonly ResponseHeader Header = new() { ClusterId = 7, MemberId = 8, Revision = 9, RaftTerm = 2 };

    private static string Lease(OutputFormat format, Action<LeaseOutput> write)
    {
        var text = new StringWriter();
        write(new LeaseOutput(text, format));
        return text.ToString();
    }

    private static string Watch(OutputFormat format, Action<WatchOutput> write)
    {
        var text = new StringWriter();
        write(new WatchOutput(text, format));
        return text.ToString();
    }

    [Theory]
    [InlineData("2040a249b23b5b0f", 0x2040a249b23b5b0f, "2040a249b23b5b0f")]
    [InlineData("1234abcd", 0x1234abcd, "000000001234abcd")]
    [InlineData("-5", -5, "-000000000000005")]
    [InlineData("7fffffffffffffff", long.MaxValue, "7fffffffffffffff")]
    public void Lease_ids_are_read_and_printed_in_hex_as_etcdctl_does(string text, long id, string printed)
    {
        Assert.Equal(id, LeaseIds.Parse(text));
        Assert.Equal(printed, LeaseIds.Format(id));
    }

    [Theory]
    [InlineData("zz")]
    [InlineData("")]
    [InlineData("0x12")]
    [InlineData("8000000000000000")]
    public void A_lease_id_that_is_not_a_signed_64_bit_hex_number_is_a_usage_error(string text) =>
        Assert.Throws<UsageException>(() => LeaseIds.Parse(text));

    [Fact]
    public void Lease_answers_print_etcdctls_lines()
    {
        Assert.Equal("lease 000000000000002a granted with TTL(2s)\n", Lease(OutputFormat.Simple, o => o.Granted(new LeaseGrantResponse { Header = Header, ID = 42, TTL = 2 })));
        Assert.Equal("lease 000000000000002a revoked\n", Lease(OutputFormat.Simple, o => o.Revoked(42, new LeaseRevokeResponse { Header = Header })));
        var live = new LeaseTimeToLiveResponse { Header = Header, ID = 42, TTL = 99, GrantedTTL = 100, Keys = { ByteString.CopyFromUtf8("lk0"), ByteString.CopyFromUtf8("lk1") } };
        Assert.Equal("lease 000000000000002a granted with TTL(100s), remaining(99s)\n", Lease(OutputFormat.Simple, o => o.TimeToLive(live, keys: false)));
        Assert.Equal("lease 000000000000002a granted with TTL(100s), remaining(99s), attached keys([lk0 lk1])\n", Lease(OutputFormat.Simple, o => o.TimeToLive(live, keys: true)));
        Assert.Equal("lease 000000000000002a already expired\n", Lease(OutputFormat.Simple, o => o.TimeToLive(new LeaseTimeToLiveResponse { Header = Header, ID = 42, TTL = -1 }, keys: true)));
        Assert.Equal("lease 000000000000002a keepalived with TTL(100)\n", Lease(OutputFormat.Simple, o => o.KeptAlive(new LeaseKeepAliveResponse { Header = Header, ID = 42, TTL = 100 })));
        Assert.Equal("found 2 leases\n000000000000002a\n000000000000002b\n",
            Lease(OutputFormat.Simple, o => o.Leases(new LeaseLeasesResponse { Header = Header, Leases = { new LeaseStatus { ID = 42 }, new LeaseStatus { ID = 43 } } })));
    }

    [Fact]
    public void Lease_answers_in_json_flatten_the_header_as_the_Go_clients_structs_do()
    {
        const string header = "\"cluster_id\":7,\"member_id\":8,\"revision\":9,\"raft_term\":2";
        Assert.Equal($"{{{header},\"ID\":42,\"TTL\":2,\"Error\":\"\"}}\n", Lease(OutputFormat.Json, o => o.Granted(new LeaseGrantResponse { Header = Header, ID = 42, TTL = 2 })));
        Assert.Equal($"{{\"header\":{{{header}}}}}\n", Lease(OutputFormat.Json, o => o.Revoked(42, new LeaseRevokeResponse { Header = Header })));
        Assert.Equal($"{{{header},\"id\":42,\"ttl\":-1,\"granted-ttl\":0,\"keys\":null}}\n",
            Lease(OutputFormat.Json, o => o.TimeToLive(new LeaseTimeToLiveResponse { Header = Header, ID = 42, TTL = -1 }, keys: false)));
        Assert.Equal($"{{{header},\"id\":42,\"ttl\":99,\"granted-ttl\":100,\"keys\":[\"bGsw\"]}}\n",
            Lease(OutputFormat.Json, o => o.TimeToLive(new LeaseTimeToLiveResponse { Header = Header, ID = 42, TTL = 99, GrantedTTL = 100, Keys = { ByteString.CopyFromUtf8("lk0") } }, keys: true)));
        Assert.Equal($"{{{header},\"ID\":42,\"TTL\":100}}\n", Lease(OutputFormat.Json, o => o.KeptAlive(new LeaseKeepAliveResponse { Header = Header, ID = 42, TTL = 100 })));
        Assert.Equal($"{{{header},\"leases\":[]}}\n", Lease(OutputFormat.Json, o => o.Leases(new LeaseLeasesResponse { Header = Header })));
    }

    [Fact]
    public void Watch_events_print_type_then_previous_pair_then_key_and_value()
    {
        var response = new WatchResponse { Header = Header, WatchId = 0 };
        response.Events.Add(new Event { Kv = Kv("w", "2", 5, 6), PrevKv = Kv("w", "1", 5, 5) });
        response.Events.Add(new Event { Type = Event.Types.EventType.Delete, Kv = new KeyValue { Key = ByteString.CopyFromUtf8("w/x"), ModRevision = 6 } });
        Assert.Equal("PUT\nw\n1\nw\n2\nDELETE\nw/x\n\n", Watch(OutputFormat.Simple, o => o.Response(response)));
        Assert.Equal(
            "{\"Header\":{\"cluster_id\":7,\"member_id\":8,\"revision\":9,\"raft_term\":2},\"Events\":["
            + "{\"kv\":{\"key\":\"dw==\",\"create_revision\":5,\"mod_revision\":6,\"version\":1,\"value\":\"Mg==\"},\"prev_kv\":{\"key\":\"dw==\",\"create_revision\":5,\"mod_revision\":5,\"version\":1,\"value\":\"MQ==\"}},"
            + "{\"type\":1,\"kv\":{\"key\":\"dy94\",\"mod_revision\":6}}],\"CompactRevision\":0,\"Canceled\":false,\"Created\":false}\n",
            Watch(OutputFormat.Json, o => o.Response(response)));
    }

    [Fact]
    public void A_progress_notification_prints_its_revision_before_its_json()
    {
        var progress = new WatchResponse { Header = Header, WatchId = -1 };
        Assert.True(WatchOutput.IsProgressNotify(progress));
        Assert.Equal("progress notify: 9\n", Watch(OutputFormat.Simple, o => o.Response(progress)));
        Assert.StartsWith("progress notify: 9\n{\"Header\":{", Watch(OutputFormat.Json, o => o.Response(progress)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_canceled_watch_gives_etcds_reason_and_a_closed_watch_the_Go_clients_own_json()
    {
        var compacted = new WatchResponse { Header = new ResponseHeader { ClusterId = 7 }, Canceled = true, CompactRevision = 4 };
        Assert.False(WatchOutput.IsProgressNotify(compacted));
        Assert.Equal("etcdserver: mvcc: required revision has been compacted", WatchOutput.CancelReason(compacted));
        Assert.Equal("{\"Header\":{\"cluster_id\":7},\"Events\":[],\"CompactRevision\":4,\"Canceled\":true,\"Created\":false}\n", Watch(OutputFormat.Json, o => o.Response(compacted)));
        Assert.Equal("mvcc: watcher range is empty", WatchOutput.CancelReason(new WatchResponse { Canceled = true, CancelReason = "mvcc: watcher range is empty" }));
        Assert.Equal("{\"Header\":{},\"Events\":null,\"CompactRevision\":0,\"Canceled\":true,\"Created\":false}\n", Watch(OutputFormat.Json, o => o.Closed()));
        Assert.Equal("", Watch(OutputFormat.Simple, o => o.Closed()));
    }

    private static KeyValue Kv(string key, string value, long created, long modified) => new()
    {
        Key = ByteString.CopyFromUtf8(key),
        Value = ByteString.CopyFromUtf8(value),
        CreateRevision = created,
        ModRevision = modified,
        Version = 1,
    };
}
