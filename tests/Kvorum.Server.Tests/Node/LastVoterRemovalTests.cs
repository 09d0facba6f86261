using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// Removing the only voter is refused with etcd's answer, and the member goes on serving (issue 19, finding 4: it used
/// to be accepted and counted as committed at once, leaving a cluster with no voter).
/// </summary>
public sealed class LastVoterRemovalTests
{
    [Fact]
    public async Task Removing_the_only_voter_is_refused_as_etcd_refuses_it_and_writes_go_on()
    {
        await using var cluster = InMemoryCluster.Start(1);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));

        var e = await Assert.ThrowsAsync<EtcdException>(() =>
            leader.ChangeMembershipAsync(new ConfChange(ConfChangeType.RemoveNode, leader.MemberId), CancellationToken.None));

        Assert.Equal(EtcdErrors.NotEnoughStartedMembers, e.Error);
        Assert.Equal([leader.MemberId], (await leader.MembersAsync()).Select(m => m.ID));
        var put = new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") } };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var response = await leader.ProposeAsync<PutResponse>(put, timeout.Token);
        Assert.True(response.Header.Revision > 1);
    }
}
