using Kvorum.Tests.Shared;
using System.Net;
using System.Net.Sockets;
using Kvorum.Cli.Cluster;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Tests;

public class ClusterLayoutTests
{
    [Fact]
    public void Ports_follow_etcds_local_cluster_convention()
    {
        var members = ClusterLayout.Plan(5, "data");

        Assert.Equal(["infra1", "infra2", "infra3", "infra4", "infra5"], members.Select(m => m.Name));
        Assert.Equal([2379, 22379, 32379, 42379, 52379], members.Select(m => m.ClientPort));
        Assert.Equal([2380, 22380, 32380, 42380, 52380], members.Select(m => m.PeerPort));
        Assert.Equal(Path.Combine("data", "infra2"), members[1].DataDir);
        Assert.Equal(Path.Combine("data", "infra2.log"), members[1].LogFile);
    }

    [Fact]
    public void Serve_arguments_are_the_same_on_every_run()
    {
        var members = ClusterLayout.Plan(3, "d");

        var args = ClusterLayout.Serve(members[1], members).ToArgs();

        Assert.Equal(
            ["serve", "--name", "infra2", "--data-dir", Path.Combine("d", "infra2"),
             "--listen-client-urls", "http://127.0.0.1:22379", "--advertise-client-urls", "http://127.0.0.1:22379",
             "--listen-peer-urls", "http://127.0.0.1:22380", "--initial-advertise-peer-urls", "http://127.0.0.1:22380",
             "--initial-cluster", "infra1=http://127.0.0.1:2380,infra2=http://127.0.0.1:22380,infra3=http://127.0.0.1:32380",
             "--initial-cluster-token", "kvorum-local-cluster", "--initial-cluster-state", "new"],
            args);
    }

    [Fact]
    public async Task The_serve_arguments_pass_serve_validation()
    {
        var members = ClusterLayout.Plan(3, "d");
        var run = new CliRun();

        var (code, _, err) = await run.RunAsync([.. ClusterLayout.Serve(members[2], members).ToArgs()]);

        Assert.Equal((0, ""), (code, err));
        Assert.Equal(3, run.Served!.InitialCluster.Count);
    }

    [Theory]
    [InlineData(new[] { "--nodes", "0" }, "kvorum cluster up: --nodes must be at least 1, got 0")]
    [InlineData(new[] { "--nodes", "7" }, "kvorum cluster up: --nodes 7 with --base-port 2379 needs port 72380 for infra7, above 65535")]
    [InlineData(new[] { "--base-port", "70000" }, "kvorum cluster up: --base-port must be between 1 and 65534, got 70000")]
    public async Task Bad_layouts_exit_2(string[] args, string message)
    {
        var (code, _, err) = await CliRun.Run(["cluster", "up", .. args]);

        Assert.Equal((ExitCodes.Usage, message + "\n"), (code, err));
    }

    [Fact]
    public void A_busy_port_is_named()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        var members = new[] { new LocalMember("infra1", port - 1 > 0 ? FreePorts.Next() : 1, port, "d", "d.log") };

        var error = Assert.Throws<CommandFailedException>(() => ClusterUpCommand.CheckPortsFree(members));

        Assert.Equal($"kvorum cluster up: port {port} (infra1 peer) is already in use", error.Message);
    }

    [Fact]
    public void Status_line_shows_up_down_leader_term_and_index()
    {
        var leader = new StatusResponse { Header = new ResponseHeader { MemberId = 1 }, Leader = 1, RaftTerm = 2, RaftIndex = 9 };
        var follower = new StatusResponse { Header = new ResponseHeader { MemberId = 2 }, Leader = 1, RaftTerm = 2, RaftIndex = 8 };

        var line = MemberState.Line([new("infra1", null, leader), new("infra2", null, follower), new("infra3", null, null), new("infra4", 2, null)]);

        Assert.Equal("infra1 up leader term 2 index 9 | infra2 up term 2 index 8 | infra3 down | infra4 exited(2)", line);
    }
}
