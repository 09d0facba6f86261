using Kvorum.Cli.Serve;
using Kvorum.Etcd.Serve;
using Kvorum.Server;

namespace Kvorum.Cli.Tests;

public class ServeCommandTests
{
    [Fact]
    public async Task No_flags_gives_etcds_defaults_and_runs_the_server_with_its_exit_code()
    {
        var run = new CliRun { ServerExitCode = 7 };
        var (code, _, err) = await run.RunAsync("serve");

        Assert.Equal(7, code);
        Assert.Equal("", err);
        var options = run.Served!;
        Assert.Equal("default", options.Name);
        Assert.Equal("default.kvorum", options.DataDir);
        Assert.Equal([new Uri("http://127.0.0.1:2379")], options.ListenClientUrls);
        Assert.Equal(options.ListenClientUrls, options.AdvertiseClientUrls);
        Assert.Equal([new Uri("http://127.0.0.1:2380")], options.InitialAdvertisePeerUrls);
        Assert.Equal(["default"], options.InitialCluster.Keys);
        Assert.Equal(InitialClusterState.New, options.InitialClusterState);
        Assert.Equal(100, options.HeartbeatIntervalMs);
        Assert.Equal(1000, options.ElectionTimeoutMs);
        Assert.Equal(10_000UL, options.SnapshotCount);
        Assert.Equal(1536 * 1024, options.MaxRequestBytes);
        Assert.Equal(2L << 30, options.QuotaBackendBytes);
        Assert.Empty(options.ListenMetricsUrls);
        Assert.True(options.PreVote);
        Assert.True(options.StrictReconfigCheck);
    }

    [Fact]
    public async Task Every_flag_is_bound()
    {
        var run = new CliRun();
        var (code, _, err) = await run.RunAsync(
            "serve", "--name", "infra2", "--data-dir", "/tmp/d2",
            "--listen-client-urls", "http://127.0.0.1:22379,http://10.0.0.2:22379",
            "--advertise-client-urls", "http://10.0.0.2:22379",
            "--listen-peer-urls", "http://0.0.0.0:22380",
            "--initial-advertise-peer-urls", "http://10.0.0.2:22380",
            "--initial-cluster", "infra1=http://10.0.0.1:2380,infra2=http://10.0.0.2:22380,infra3=http://10.0.0.3:32380",
            "--initial-cluster-state", "existing", "--initial-cluster-token", "tok",
            "--heartbeat-interval", "50", "--election-timeout", "500", "--snapshot-count", "42",
            "--max-request-bytes", "4096", "--quota-backend-bytes", "1000000", "--listen-metrics-urls", "http://127.0.0.1:9090", "--pre-vote", "false",
            "--experimental-enable-lease-checkpoint", "false", "--strict-reconfig-check=false");

        Assert.Equal("", err);
        Assert.Equal(0, code);
        var o = run.Served!;
        Assert.Equal("infra2", o.Name);
        Assert.Equal("/tmp/d2", o.DataDir);
        Assert.Equal(2, o.ListenClientUrls.Count);
        Assert.Equal([new Uri("http://10.0.0.2:22379")], o.AdvertiseClientUrls);
        Assert.Equal([new Uri("http://0.0.0.0:22380")], o.ListenPeerUrls);
        Assert.Equal(["infra1", "infra2", "infra3"], o.InitialCluster.Keys);
        Assert.Equal(InitialClusterState.Existing, o.InitialClusterState);
        Assert.Equal("tok", o.InitialClusterToken);
        Assert.Equal((50, 500, 42UL, 4096), (o.HeartbeatIntervalMs, o.ElectionTimeoutMs, o.SnapshotCount, o.MaxRequestBytes));
        Assert.Equal(1_000_000, o.QuotaBackendBytes);
        Assert.Equal([new Uri("http://127.0.0.1:9090")], o.ListenMetricsUrls);
        Assert.False(o.PreVote);
        Assert.False(o.LeaseCheckpoints);
        Assert.False(o.StrictReconfigCheck);
    }

    [Theory]
    [InlineData("--election-timeout must be a multiple of --heartbeat-interval (100 ms), got 150", "--election-timeout", "150")]
    [InlineData("--election-timeout must be greater than --heartbeat-interval (100 ms), got 100", "--election-timeout", "100")]
    [InlineData("--election-timeout must be a positive whole number of milliseconds, got \"1s\"", "--election-timeout", "1s")]
    [InlineData("--heartbeat-interval must be a positive whole number of milliseconds, got \"0\"", "--heartbeat-interval", "0")]
    [InlineData("--snapshot-count must be a positive whole number, got \"-5\"", "--snapshot-count", "-5")]
    [InlineData("--max-request-bytes must be a positive whole number of bytes, got \"big\"", "--max-request-bytes", "big")]
    [InlineData("--quota-backend-bytes must be a whole number of bytes, got \"8GB\"", "--quota-backend-bytes", "8GB")]
    [InlineData("--auto-compaction-mode must be periodic or revision, got \"daily\"", "--auto-compaction-mode", "daily")]
    [InlineData("--auto-compaction-retention must be a duration such as 30m or 1h, or a number of hours, got \"soon\"", "--auto-compaction-retention", "soon")]
    [InlineData("--initial-cluster-state must be new or existing, got \"old\"", "--initial-cluster-state", "old")]
    [InlineData("--listen-client-urls: \"127.0.0.1:2379\" is not a URL of the form http://host:port", "--listen-client-urls", "127.0.0.1:2379")]
    [InlineData("--listen-client-urls: \"ftp://127.0.0.1:2379\" is not a URL of the form http://host:port", "--listen-client-urls", "ftp://127.0.0.1:2379")]
    [InlineData("--listen-peer-urls: \"http://127.0.0.1\" is not a URL of the form http://host:port", "--listen-peer-urls", "http://127.0.0.1")]
    [InlineData("--listen-metrics-urls: \"http://h:1/metrics\" is not a URL of the form http://host:port", "--listen-metrics-urls", "http://h:1/metrics")]
    [InlineData("--initial-cluster has no member named \"default\" (the --name)", "--initial-cluster", "infra1=http://127.0.0.1:2380")]
    [InlineData("--initial-cluster: \"infra1\" is not name=url", "--initial-cluster", "infra1")]
    [InlineData("--initial-cluster: peer URL http://127.0.0.1:2380 is listed twice", "--initial-cluster", "default=http://127.0.0.1:2380,b=http://127.0.0.1:2380")]
    [InlineData("--initial-advertise-peer-urls (http://127.0.0.1:2380) must match the --initial-cluster entry for \"default\" (http://127.0.0.1:9999)", "--initial-cluster", "default=http://127.0.0.1:9999")]
    [InlineData("--pre-vote must be true or false, got \"maybe\"", "--pre-vote", "maybe")]
    [InlineData("--experimental-enable-lease-checkpoint must be true or false, got \"on\"", "--experimental-enable-lease-checkpoint", "on")]
    [InlineData("--strict-reconfig-check must be true or false, got \"yes\"", "--strict-reconfig-check", "yes")]
    [InlineData("--name must be a non-empty name without '=' or ',', got \"a=b\"", "--name", "a=b")]
    [InlineData("--advertise-client-urls is required when --listen-client-urls listens on every interface", "--listen-client-urls", "http://0.0.0.0:2379")]
    [InlineData("https://127.0.0.1:2379 is https: give --cert-file and --key-file, or --auto-tls", "--listen-client-urls", "https://127.0.0.1:2379")]
    [InlineData("--cert-file needs --key-file", "--cert-file", "member.pem")]
    [InlineData("--client-cert-auth needs --trusted-ca-file: the CA that signs the certificates to accept", "--client-cert-auth", "true")]
    [InlineData("--cipher-suites: unknown cipher suite \"FAST\"", "--cipher-suites", "FAST")]
    public async Task A_bad_value_is_one_line_and_exit_code_2(string message, string flag, string value)
    {
        var run = new CliRun();
        var (code, output, err) = await run.RunAsync("serve", flag, value);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal($"kvorum serve: {message}\n", err.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.Equal("", output);
        Assert.Null(run.Served);
    }

    [Fact]
    public async Task An_unknown_flag_is_one_line_and_exit_code_2()
    {
        var (code, _, err) = await CliRun.Run("serve", "--bogus", "1");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.StartsWith("kvorum serve: Unrecognized command or argument '--bogus'", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", 2L << 30)] // etcd's rule: 0 is the default
    [InlineData("-1", long.MaxValue)] // and a negative quota is none
    [InlineData("65536", 65536L)]
    public async Task The_backend_quota_follows_etcds_rules_from_the_environment_too(string text, long expected)
    {
        var run = new CliRun();
        run.Environment["KVORUM_QUOTA_BACKEND_BYTES"] = text;

        var (code, _, err) = await run.RunAsync("serve");

        Assert.Equal((0, ""), (code, err));
        Assert.Equal(expected, run.Served!.QuotaBackendBytes);
    }

    [Theory]
    [InlineData(null, null, "Periodic", 0, 0L)] // off by default, as in etcd
    [InlineData(null, "1", "Periodic", 60, 0L)] // a bare number is hours
    [InlineData("periodic", "30m", "Periodic", 30, 0L)]
    [InlineData("revision", "1000", "Revision", 0, 1000L)]
    public async Task Auto_compaction_follows_etcds_flags(string? mode, string? retention, string expectedMode, int expectedMinutes, long expectedRevisions)
    {
        var args = new List<string> { "serve" };
        if (mode is not null)
            args.AddRange(["--auto-compaction-mode", mode]);
        if (retention is not null)
            args.AddRange(["--auto-compaction-retention", retention]);
        var run = new CliRun();

        var (code, _, err) = await run.RunAsync([.. args]);

        Assert.Equal((0, ""), (code, err));
        Assert.Equal(expectedMode, run.Served!.AutoCompactionMode.ToString());
        Assert.Equal(TimeSpan.FromMinutes(expectedMinutes), run.Served.AutoCompactionPeriod);
        Assert.Equal(expectedRevisions, run.Served.AutoCompactionRevisions);
    }

    [Fact]
    public async Task Environment_variables_stand_in_for_missing_flags()
    {
        var run = new CliRun();
        run.Environment["KVORUM_NAME"] = "infra1";
        run.Environment["KVORUM_DATA_DIR"] = "/var/lib/kvorum";
        run.Environment["KVORUM_ELECTION_TIMEOUT"] = "2000";
        run.Environment["KVORUM_PRE_VOTE"] = "false";
        run.Environment["KVORUM_STRICT_RECONFIG_CHECK"] = "false";
        run.Environment["KVORUM_INITIAL_CLUSTER"] = "infra1=http://127.0.0.1:2380,infra2=http://127.0.0.1:22380";

        var (code, _, err) = await run.RunAsync("serve");

        Assert.Equal((0, ""), (code, err));
        Assert.Equal("infra1", run.Served!.Name);
        Assert.Equal("/var/lib/kvorum", run.Served.DataDir);
        Assert.Equal(2000, run.Served.ElectionTimeoutMs);
        Assert.False(run.Served.PreVote);
        Assert.False(run.Served.StrictReconfigCheck);
        Assert.Equal(2, run.Served.InitialCluster.Count);
    }

    [Fact]
    public async Task A_flag_wins_over_its_environment_variable()
    {
        var run = new CliRun();
        run.Environment["KVORUM_DATA_DIR"] = "/from/env";
        run.Environment["KVORUM_HEARTBEAT_INTERVAL"] = "not a number";

        var (code, _, _) = await run.RunAsync("serve", "--data-dir", "/from/flag", "--heartbeat-interval", "200");

        Assert.Equal(0, code);
        Assert.Equal("/from/flag", run.Served!.DataDir);
        Assert.Equal(200, run.Served.HeartbeatIntervalMs);
    }

    [Fact]
    public async Task A_bad_environment_value_is_reported_under_its_flag()
    {
        var run = new CliRun();
        run.Environment["KVORUM_SNAPSHOT_COUNT"] = "lots";

        var (code, _, err) = await run.RunAsync("serve");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("kvorum serve: --snapshot-count must be a positive whole number, got \"lots\"\n", err);
    }

    [Fact]
    public async Task Equals_syntax_and_a_bare_pre_vote_work_as_in_etcd()
    {
        var run = new CliRun();
        run.Environment["KVORUM_PRE_VOTE"] = "false";

        var (code, _, err) = await run.RunAsync("serve", "--listen-client-urls=http://127.0.0.1:3000", "--pre-vote");

        Assert.Equal((0, ""), (code, err));
        Assert.Equal([new Uri("http://127.0.0.1:3000")], run.Served!.ListenClientUrls);
        Assert.True(run.Served.PreVote);
    }

    [Fact]
    public void Environment_variable_names_follow_the_flags()
    {
        Assert.Equal("KVORUM_DATA_DIR", ServeFlags.EnvironmentVariable("--data-dir"));
        Assert.Equal("KVORUM_INITIAL_ADVERTISE_PEER_URLS", ServeFlags.EnvironmentVariable("--initial-advertise-peer-urls"));
    }

    [Fact]
    public void Initial_cluster_keeps_order_and_gives_a_member_several_urls()
    {
        var cluster = InitialClusterParser.Parse(" b=http://10.0.0.2:2380 , a=http://10.0.0.1:2380,b=http://10.0.1.2:2380");

        Assert.Equal(["b", "a"], cluster.Keys);
        Assert.Equal([new Uri("http://10.0.0.2:2380"), new Uri("http://10.0.1.2:2380")], cluster["b"]);
        Assert.Equal([new Uri("http://10.0.0.1:2380")], cluster["a"]);
    }

    [Theory]
    [InlineData("", "--initial-cluster must list at least one name=url member")]
    [InlineData("=http://a:1", "--initial-cluster: \"=http://a:1\" is not name=url")]
    [InlineData("a=b", "--initial-cluster: \"b\" is not a URL of the form http://host:port")]
    public void Initial_cluster_rejects_malformed_entries(string text, string message)
    {
        var error = Assert.Throws<UsageException>(() => InitialClusterParser.Parse(text));
        Assert.Equal(message, error.Message);
    }
}
