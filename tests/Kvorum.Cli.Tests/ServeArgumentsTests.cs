using Kvorum.Etcd.Serve;
using Kvorum.Server;

namespace Kvorum.Cli.Tests;

/// <summary>The typed <c>serve</c> command line: what it writes, and that <c>serve</c> reads back what was meant.</summary>
public class ServeArgumentsTests
{
    private static readonly ServeArguments Everything = new()
    {
        Name = "n2",
        DataDir = "/tmp/n2",
        ListenClientUrls = [new Uri("http://10.0.0.2:2379"), new Uri("http://127.0.0.1:2379/")],
        AdvertiseClientUrls = [new Uri("http://10.0.0.2:2379")],
        ListenPeerUrls = [new Uri("http://10.0.0.2:2380")],
        InitialAdvertisePeerUrls = [new Uri("http://10.0.0.2:2380")],
        ListenMetricsUrls = [new Uri("http://10.0.0.2:2381")],
        InitialCluster = [new("n1", new Uri("http://10.0.0.1:2380")), new("n2", new Uri("http://10.0.0.2:2380"))],
        InitialClusterToken = "tok",
        JoinExistingCluster = true,
        ElectionTimeoutMs = 500,
        HeartbeatIntervalMs = 50,
        PreVote = false,
        SnapshotCount = 42,
        SnapshotCatchUpEntries = 7,
        ExtraFlags = ["--max-request-bytes", "4096"],
    };

    [Fact]
    public void Nothing_set_is_serve_alone()
    {
        Assert.Equal(["serve"], new ServeArguments().ToArgs());
        Assert.Empty(new ServeArguments().ToFlags());
    }

    [Fact]
    public void Every_flag_is_written_in_one_order_with_the_extra_flags_last()
    {
        Assert.Equal(
            ["serve", "--name", "n2", "--data-dir", "/tmp/n2",
             "--listen-client-urls", "http://10.0.0.2:2379,http://127.0.0.1:2379", "--advertise-client-urls", "http://10.0.0.2:2379",
             "--listen-peer-urls", "http://10.0.0.2:2380", "--initial-advertise-peer-urls", "http://10.0.0.2:2380",
             "--listen-metrics-urls", "http://10.0.0.2:2381",
             "--initial-cluster", "n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380", "--initial-cluster-token", "tok",
             "--initial-cluster-state", "existing", "--election-timeout", "500", "--heartbeat-interval", "50",
             "--pre-vote", "false", "--snapshot-count", "42", "--experimental-snapshot-catchup-entries", "7",
             "--max-request-bytes", "4096"],
            Everything.ToArgs());
    }

    [Fact]
    public void A_new_cluster_and_pre_vote_on_are_written_too()
    {
        var args = new ServeArguments { JoinExistingCluster = false, PreVote = true }.ToFlags();

        Assert.Equal(["--initial-cluster-state", "new", "--pre-vote", "true"], args);
    }

    [Fact]
    public async Task Serve_reads_back_every_setting()
    {
        var run = new CliRun();

        var (code, _, err) = await run.RunAsync([.. Everything.ToArgs()]);

        Assert.Equal((0, ""), (code, err));
        var o = run.Served!;
        Assert.Equal(("n2", "/tmp/n2"), (o.Name, o.DataDir));
        Assert.Equal([new Uri("http://10.0.0.2:2379"), new Uri("http://127.0.0.1:2379")], o.ListenClientUrls);
        Assert.Equal([new Uri("http://10.0.0.2:2379")], o.AdvertiseClientUrls);
        Assert.Equal([new Uri("http://10.0.0.2:2380")], o.ListenPeerUrls);
        Assert.Equal([new Uri("http://10.0.0.2:2380")], o.InitialAdvertisePeerUrls);
        Assert.Equal([new Uri("http://10.0.0.2:2381")], o.ListenMetricsUrls);
        Assert.Equal(["n1", "n2"], o.InitialCluster.Keys);
        Assert.Equal(("tok", InitialClusterState.Existing), (o.InitialClusterToken, o.InitialClusterState));
        Assert.Equal((500, 50, false), (o.ElectionTimeoutMs, o.HeartbeatIntervalMs, o.PreVote));
        Assert.Equal((42UL, 7UL, 4096), (o.SnapshotCount, o.SnapshotCatchUpEntries, o.MaxRequestBytes));
    }

    [Fact]
    public void Settings_shared_by_members_keep_through_with()
    {
        var shared = new ServeArguments { ElectionTimeoutMs = 300, HeartbeatIntervalMs = 30 };

        var member = shared with { Name = "n1", ElectionTimeoutMs = 600 };

        Assert.Equal(["serve", "--name", "n1", "--election-timeout", "600", "--heartbeat-interval", "30"], member.ToArgs());
        Assert.Equal(["serve", "--election-timeout", "300", "--heartbeat-interval", "30"], shared.ToArgs());
    }
}
