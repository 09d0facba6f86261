using System.Net;
using System.Net.Sockets;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A new member's first start makes its data directory whole or not at all (issue 19, finding 11): a start that fails
/// leaves nothing that would decide a later start, so a retry with other flags takes those flags.
/// </summary>
public sealed class FirstStartProcessTests : IAsyncLifetime
{
    private readonly ProcessCluster _cluster = new(0);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_first_start_on_a_peer_port_in_use_leaves_nothing_and_a_retry_takes_the_new_peer_URL()
    {
        var ports = _cluster.Define("m1");
        var firstPeerUrl = _cluster.PeerUrl("m1");
        using (var blocker = new TcpListener(IPAddress.Loopback, ports.Peer))
        {
            blocker.Start();
            _cluster.Start("m1");
            Assert.Equal(1, await _cluster.WaitForExitAsync("m1", TimeSpan.FromSeconds(30)));
        }
        var line = Assert.Single(MemberIdentityProcessTests.ErrorLines(_cluster.LogText("m1")));
        Assert.StartsWith($"kvorum serve: cannot listen: Failed to bind to address {firstPeerUrl}", line, StringComparison.Ordinal);
        var dataDir = _cluster.DataDir("m1");
        Assert.False(Directory.Exists(dataDir), $"the failed start left {dataDir}");
        Assert.Empty(Directory.EnumerateDirectories(Path.GetDirectoryName(dataDir)!));

        // The retry on other ports is a new member with the new peer URL, as its flags say.
        _cluster.Define("m1");
        Assert.NotEqual(firstPeerUrl, _cluster.PeerUrl("m1"));
        _cluster.Start("m1");
        await _cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var list = await new Kvorum.Etcd.Api.Cluster.ClusterClient(_cluster.Channel("m1")).MemberListAsync(new Kvorum.Etcd.Api.MemberListRequest());
        var member = Assert.Single(list.Members);
        Assert.Equal([_cluster.PeerUrl("m1")], member.PeerURLs);
        Assert.Equal(member.ID, (await _cluster.RequireStatusAsync("m1")).Header.MemberId);

        // A restart that cannot listen leaves the member's directory exactly as it was.
        Assert.Equal(0, await _cluster.StopAsync("m1", TimeSpan.FromSeconds(30)));
        var before = MemberIdentityProcessTests.Fingerprint(dataDir);
        using (var blocker = new TcpListener(IPAddress.Loopback, _cluster.Members["m1"].Client))
        {
            blocker.Start();
            _cluster.Start("m1");
            Assert.Equal(1, await _cluster.WaitForExitAsync("m1", TimeSpan.FromSeconds(30)));
        }
        Assert.Equal(before, MemberIdentityProcessTests.Fingerprint(dataDir));
    }
}
