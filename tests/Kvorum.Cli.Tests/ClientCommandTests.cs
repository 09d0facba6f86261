using Kvorum.Tests.Shared;
using Kvorum.Cli.Client;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Cli.Tests;

public sealed class ClientCommandTests : IAsyncLifetime
{
    private FakeEtcdServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeEtcdServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<(int Code, string Out, string Err)> Kvorum(params string[] args) =>
        new CliRun().RunAsync([.. args, "--endpoints", _server.Endpoint]);

    [Fact]
    public async Task Put_get_del_round_trip()
    {
        Assert.Equal((0, "OK\n", ""), await Kvorum("put", "foo", "bar"));
        Assert.Equal((0, "OK\n", ""), await Kvorum("put", "foo2", "baz"));
        Assert.Equal((0, "foo\nbar\n", ""), await Kvorum("get", "foo"));
        Assert.Equal((0, "foo\nbar\nfoo2\nbaz\n", ""), await Kvorum("get", "foo", "--prefix"));
        Assert.Equal((0, "foo\n\nfoo2\n\n", ""), await Kvorum("get", "f", "--prefix", "--keys-only"));
        Assert.Equal((0, "bar\nbaz\n", ""), await Kvorum("get", "f", "--prefix", "--print-value-only"));
        Assert.Equal((0, "2\n", ""), await Kvorum("get", "", "--from-key", "--count-only"));
        Assert.Equal((0, "foo\nbar\n", ""), await Kvorum("get", "a", "--from-key", "--limit", "1"));
        Assert.Equal((0, "OK\nfoo\nbar\n", ""), await Kvorum("put", "foo", "qux", "--prev-kv"));
        Assert.Equal((0, "1\nfoo\nqux\n", ""), await Kvorum("del", "foo", "--prev-kv"));
        Assert.Equal((0, "", ""), await Kvorum("get", "foo"));
        Assert.Equal((0, "1\n", ""), await Kvorum("del", "foo", "--prefix"));
    }

    [Fact]
    public async Task Put_reads_the_value_from_stdin_when_it_is_omitted()
    {
        var run = new CliRun { Stdin = "from stdin" };
        Assert.Equal(0, (await run.RunAsync("put", "k", "--endpoints", _server.Endpoint)).Code);
        Assert.Equal((0, "k\nfrom stdin\n", ""), await Kvorum("get", "k"));
    }

    [Fact]
    public async Task Get_json_is_the_range_response()
    {
        await Kvorum("put", "k", "v");
        var (code, output, _) = await Kvorum("get", "k", "-w", "json");

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("aw==", json.RootElement.GetProperty("kvs")[0].GetProperty("key").GetString());
    }

    [Fact]
    public async Task Txn_reads_stdin_and_runs_the_success_branch()
    {
        await Kvorum("put", "k", "v1");
        var run = new CliRun { Stdin = "val(\"k\") = \"v1\"\n\nput k v2\nget k\n\nput k failed\n" };

        Assert.Equal((0, "SUCCESS\n\nOK\n\nk\nv2\n", ""), await run.RunAsync("txn", "--endpoints", _server.Endpoint));

        run.Stdin = "version(\"k\") > \"5\"\n\nput k never\n\ndel k\n";
        Assert.Equal((0, "FAILURE\n\n1\n", ""), await run.RunAsync("txn", "--endpoints", _server.Endpoint));
    }

    [Fact]
    public async Task Status_prints_a_table_by_default()
    {
        var (code, output, err) = await Kvorum("status");

        Assert.Equal((0, ""), (code, err));
        var lines = output.Split('\n');
        Assert.Contains("ENDPOINT", lines[1], StringComparison.Ordinal);
        Assert.Contains($"| {_server.Endpoint} | 8e9e05c52164694d |   3.6.0 |   25 kB |      true |      false |         2", lines[3], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hashkv_prints_each_endpoints_hash_and_revision()
    {
        var (code, output, err) = await Kvorum("hashkv");

        Assert.Equal((0, ""), (code, err));
        var lines = output.Split('\n');
        Assert.Contains("ENDPOINT", lines[1], StringComparison.Ordinal);
        Assert.EndsWith("| HASH REVISION | COMPACT REVISION |", lines[1], StringComparison.Ordinal);
        Assert.Contains($"| {_server.Endpoint} | 3141592653 |             1 |                0 |", lines[3], StringComparison.Ordinal);

        var future = await Kvorum("hashkv", "--rev", "9");
        Assert.Equal((1, ""), (future.Code, future.Out));
        Assert.Equal($"Error: {EtcdErrors.FutureRevision.Message} (endpoint {_server.Endpoint})\n", future.Err);
        Assert.Equal(2, (await Kvorum("hashkv", "--rev", "-1")).Code);
    }

    [Fact]
    public async Task Hashkv_exits_1_when_members_at_one_revision_disagree()
    {
        await using var other = await FakeEtcdServer.StartAsync();
        var both = $"{_server.Endpoint},{other.Endpoint}";

        var agree = await new CliRun().RunAsync("hashkv", "--endpoints", both, "-w", "simple");
        Assert.Equal((0, $"{_server.Endpoint}, 3141592653\n{other.Endpoint}, 3141592653\n", ""), agree);

        other.Store.Hash = 7;
        var disagree = await new CliRun().RunAsync("hashkv", "--endpoints", both, "-w", "simple");
        Assert.Equal((1, $"{_server.Endpoint}, 3141592653\n{other.Endpoint}, 7\n"), (disagree.Code, disagree.Out));
        Assert.Equal($"Error: members disagree at revision 1 (compacted at 0): {_server.Endpoint} 3141592653, {other.Endpoint} 7\n", disagree.Err);
    }

    [Fact]
    public async Task Member_commands()
    {
        Assert.Equal((0, "8e9e05c52164694d, started, infra1, http://127.0.0.1:2380, http://127.0.0.1:2379, false\n", ""), await Kvorum("member", "list"));

        var (code, output, _) = await Kvorum("member", "add", "infra2", "--peer-urls", "http://127.0.0.1:22380");
        Assert.Equal(0, code);
        Assert.Equal(
            "Member abc added to cluster cdf818194e3a8c32\n\nKVORUM_NAME=\"infra2\"\n" +
            "KVORUM_INITIAL_CLUSTER=\"infra1=http://127.0.0.1:2380,infra2=http://127.0.0.1:22380\"\n" +
            "KVORUM_INITIAL_ADVERTISE_PEER_URLS=\"http://127.0.0.1:22380\"\nKVORUM_INITIAL_CLUSTER_STATE=\"existing\"\n",
            output);

        Assert.Equal((0, "Member abc removed from cluster cdf818194e3a8c32\n", ""), await Kvorum("member", "remove", "abc"));
        Assert.Equal((1, "", $"Error: {EtcdErrors.MemberNotFound.Message}\n"), await Kvorum("member", "remove", "abc"));
        Assert.Equal((2, "", "kvorum member remove: member ID must be a hexadecimal number, got \"xyz\"\n"), await Kvorum("member", "remove", "xyz"));
    }

    /// <summary>etcdctl's endpoint health: a line per endpoint on stderr; an alarm makes an endpoint unhealthy.</summary>
    [Fact]
    public async Task Endpoint_health_reads_through_each_endpoint_and_reports_alarms()
    {
        var healthy = await Kvorum("endpoint", "health");
        Assert.Equal((0, ""), (healthy.Code, healthy.Out));
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(_server.Endpoint)} is healthy: successfully committed proposal: took = [0-9.]+(ns|µs|ms|s)\n$", healthy.Err);

        lock (_server.Store.Gate)
            _server.Store.Alarms.Add(new AlarmMember { MemberID = FakeEtcdServer.MemberId, Alarm = AlarmType.Nospace });
        var alarmed = await Kvorum("endpoint", "health", "-w", "json");
        Assert.Equal((1, "Error: unhealthy cluster\n"), (alarmed.Code, alarmed.Err));
        Assert.Matches($"^\\[{{\"endpoint\":\"{System.Text.RegularExpressions.Regex.Escape(_server.Endpoint)}\",\"health\":false,\"took\":\"[^\"]+\",\"error\":\"Active Alarm\\(s\\): NOSPACE \"}}\\]\n$", alarmed.Out);
    }

    [Fact]
    public async Task Endpoint_status_prints_etcdctls_simple_line()
    {
        var (code, output, err) = await Kvorum("endpoint", "status");
        Assert.Equal((0, ""), (code, err));
        Assert.StartsWith($"{_server.Endpoint}, 8e9e05c52164694d, 3.6.0, 25 kB, true, false, 2,", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(5L, "500ns")]
    [InlineData(12_345L, "1.2345ms")]
    [InlineData(40_200_693L, "4.0200693s")]
    [InlineData(3_000L, "300µs")]
    public void Durations_print_as_Go_prints_them(long ticks, string expected) =>
        Assert.Equal(expected, EndpointCommand.GoDuration(TimeSpan.FromTicks(ticks)));

    [Fact]
    public async Task Alarm_list_and_disarm_print_as_etcdctl_does()
    {
        Assert.Equal((0, "", ""), await Kvorum("alarm", "list"));
        lock (_server.Store.Gate)
            _server.Store.Alarms.Add(new AlarmMember { MemberID = FakeEtcdServer.MemberId, Alarm = AlarmType.Nospace });

        Assert.Equal((0, "memberID:10276657743932975437 alarm:NOSPACE\n", ""), await Kvorum("alarm", "list"));
        var json = await Kvorum("alarm", "list", "-w", "json");
        Assert.Contains("\"alarms\":[{\"memberID\":10276657743932975437,\"alarm\":1}]", json.Out, StringComparison.Ordinal); // etcdctl prints the enum's number
        Assert.Equal((0, "memberID:10276657743932975437 alarm:NOSPACE\n", ""), await Kvorum("alarm", "disarm"));
        Assert.Equal((0, "", ""), await Kvorum("alarm", "list"));
    }

    [Fact]
    public async Task Move_leader_goes_through_the_leader()
    {
        Assert.Equal((0, "Leadership transferred from 8e9e05c52164694d to 8e9e05c52164694d\n", ""), await Kvorum("move-leader", "8e9e05c52164694d"));
        Assert.Equal((1, "", $"Error: {EtcdErrors.BadLeaderTransferee.Message}\n"), await Kvorum("move-leader", "1"));
    }

    [Fact]
    public async Task Server_errors_print_etcd_style_and_exit_1()
    {
        Assert.Equal((1, "", $"Error: {EtcdErrors.EmptyKey.Message}\n"), await Kvorum("put", "", "v"));
        Assert.Equal((1, "", $"Error: {EtcdErrors.FutureRevision.Message}\n"), await Kvorum("get", "k", "--rev", "999"));
        Assert.Equal((1, "", $"Error: {EtcdErrors.FutureRevision.Message}\n"), await Kvorum("compaction", "999"));
        Assert.Equal((0, "compacted revision 1\n", ""), await Kvorum("compaction", "1"));
    }

    [Fact]
    public async Task Usage_errors_exit_2_with_one_line()
    {
        Assert.Equal((2, "", "kvorum get: --prefix and RANGE_END cannot be used together\n"), await Kvorum("get", "a", "z", "--prefix"));
        Assert.Equal((2, "", "kvorum get: --write-out must be simple, json or table, got \"yaml\"\n"), await Kvorum("get", "a", "-w", "yaml"));
        Assert.Equal((2, "", "kvorum compaction: REV must be a positive revision, got 0\n"), await Kvorum("compaction", "0"));
        Assert.Equal((2, "", "kvorum get: Argument 'x' not recognized. Must be one of: 'l', 's'\n"), await Kvorum("get", "a", "--consistency", "x"));
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_one_line_and_exit_1()
    {
        var port = FreePorts.Next();
        var (code, output, err) = await new CliRun().RunAsync("get", "k", "--endpoints", $"127.0.0.1:{port}");

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith($"Error: endpoint 127.0.0.1:{port} is unreachable (", err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Defrag_goes_through_every_endpoint_and_fails_for_the_unreachable_one()
    {
        var port = FreePorts.Next();
        var (code, output, err) = await new CliRun().RunAsync("defrag", "--endpoints", $"127.0.0.1:{port},{_server.Endpoint}");

        Assert.Equal(1, code);
        Assert.Equal($"Finished defragmenting etcd member[{_server.Endpoint}]\n", output);
        Assert.StartsWith($"Failed to defragment etcd member[127.0.0.1:{port}] (", err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Cluster_flag_takes_every_members_client_urls_from_the_member_list()
    {
        lock (_server.Store.Gate)
        {
            _server.Store.Members[0].ClientURLs.Clear();
            _server.Store.Members[0].ClientURLs.Add($"http://{_server.Endpoint}");
        }

        // Printed as the member list names them, scheme and all, not as --endpoints gave them.
        var status = await Kvorum("endpoint", "status", "--cluster");
        Assert.Equal(0, status.Code);
        Assert.StartsWith($"http://{_server.Endpoint}, 8e9e05c52164694d,", status.Out, StringComparison.Ordinal);
        Assert.Single(status.Out.TrimEnd().Split('\n'));
        Assert.Equal((0, $"Finished defragmenting etcd member[http://{_server.Endpoint}]\n", ""), await Kvorum("defrag", "--cluster"));
        Assert.StartsWith($"http://{_server.Endpoint}, ", (await Kvorum("endpoint", "hashkv", "--cluster")).Out, StringComparison.Ordinal);

        // Only where etcdctl has it.
        var get = await Kvorum("get", "k", "--cluster");
        Assert.Equal(2, get.Code);
    }

    [Fact]
    public async Task A_dead_endpoint_is_skipped_for_a_live_one()
    {
        await Kvorum("put", "k", "v");
        var run = new CliRun();
        run.Environment["KVORUM_ENDPOINTS"] = $"127.0.0.1:{FreePorts.Next()},{_server.Endpoint}";

        Assert.Equal((0, "k\nv\n", ""), await run.RunAsync("get", "k"));
    }

    [Fact]
    public async Task Status_reports_each_unreachable_endpoint_and_exits_1()
    {
        var port = FreePorts.Next();
        var (code, output, err) = await new CliRun().RunAsync("status", "--endpoints", $"{_server.Endpoint},127.0.0.1:{port}", "-w", "simple");

        Assert.Equal(1, code);
        Assert.StartsWith($"{_server.Endpoint}, 8e9e05c52164694d,", output, StringComparison.Ordinal);
        Assert.StartsWith($"Error: endpoint 127.0.0.1:{port} is unreachable", err, StringComparison.Ordinal);
    }
}
