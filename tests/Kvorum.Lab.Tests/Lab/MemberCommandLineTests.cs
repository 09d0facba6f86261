using Kvorum.Etcd.Serve;
using Kvorum.Lab.Nodes;
using Kvorum.Lab.State;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab.Tests.Lab;

/// <summary>The command line a lab member starts with, and the shared settings kept for its restarts in <c>state.json</c>.</summary>
public sealed class MemberCommandLineTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kvorum-labstate-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void A_member_serves_on_its_address_and_loopback_with_the_shared_settings_last()
    {
        var state = new LabState
        {
            Prefix = "kvorum",
            Subnet = "10.77.0.0/24",
            Nodes = 3,
            ServerCommand = ["kvorum"],
            Serve = new ServeArguments { ElectionTimeoutMs = 300, HeartbeatIntervalMs = 30, PreVote = false },
        };
        var layout = state.Layout(_dir);
        var node = layout.Node(2);

        var args = NodeLauncher.Serve(state, layout, node).ToArgs();

        Assert.Equal(
            ["serve", "--name", "n2", "--data-dir", node.DataDir,
             "--listen-client-urls", "http://10.77.0.2:2379,http://127.0.0.1:2379", "--advertise-client-urls", "http://10.77.0.2:2379",
             "--listen-peer-urls", "http://10.77.0.2:2380", "--initial-advertise-peer-urls", "http://10.77.0.2:2380",
             "--listen-metrics-urls", node.MetricsUrl.GetLeftPart(UriPartial.Authority),
             "--initial-cluster", "n1=http://10.77.0.1:2380,n2=http://10.77.0.2:2380,n3=http://10.77.0.3:2380",
             "--initial-cluster-token", NodeLauncher.ClusterToken, "--initial-cluster-state", "new",
             "--election-timeout", "300", "--heartbeat-interval", "30", "--pre-vote", "false",
             "--experimental-lab-state-file", Path.Combine(_dir, "n2.faults")],
            args);
    }

    [Fact]
    public void The_shared_settings_survive_the_state_file()
    {
        var state = new LabState
        {
            Prefix = "kvorum",
            Subnet = "10.77.0.0/24",
            Nodes = 3,
            ServerCommand = ["kvorum"],
            Serve = new ServeArguments { ElectionTimeoutMs = 300, PreVote = false, ExtraFlags = ["--snapshot-count", "5"] },
        };

        LabStateStore.Save(_dir, state);
        var loaded = LabStateStore.Load(_dir);

        var layout = loaded.Layout(_dir);
        Assert.Equal(NodeLauncher.Serve(state, layout, layout.Node(1)).ToArgs(), NodeLauncher.Serve(loaded, layout, layout.Node(1)).ToArgs());
        Assert.Equal(["--election-timeout", "300", "--pre-vote", "false", "--snapshot-count", "5"], loaded.Serve.ToFlags());
    }
}
