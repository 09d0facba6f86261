using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Raft;
using Kvorum.Server.Tests.Cluster;
using Kvorum.Server.Transport;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Server.Tests.Transport;

/// <summary>
/// Raft messages sent to a member's peer port by someone that is not a member: the cluster id they must carry is
/// printed in every client response, so it stops no one; the sender's id must.
/// </summary>
public sealed class StrangerMessageTests : IAsyncLifetime
{
    private readonly LocalCluster _cluster = new(3);

    public async Task InitializeAsync()
    {
        _cluster.StartAll();
        using var client = await _cluster.ConnectAsync();
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_heartbeat_of_a_far_higher_term_from_an_id_no_member_has_is_refused_and_the_term_does_not_move()
    {
        var (name, status) = await FollowerAsync();
        var clusterId = status.Header.ClusterId;
        using var peer = GrpcChannel.ForAddress(_cluster.Options[name].ListenPeerUrls[0]);
        using (var call = new Wire.RaftPeer.RaftPeerClient(peer).Stream())
        {
            var batch = new Wire.RaftBatch { ClusterId = clusterId, From = 0xbad };
            batch.Messages.Add(MessageCodec.Encode(new Message { Type = MessageType.Heartbeat, From = 0xbad, To = status.Header.MemberId, Term = 1000 }));
            batch.Messages.Add(MessageCodec.Encode(new Message
            {
                Type = MessageType.Append,
                From = 0xbad,
                To = status.Header.MemberId,
                Term = status.RaftTerm,
                Index = (ulong)status.RaftIndex,
                LogTerm = status.RaftTerm,
                Entries = new[] { new Entry((ulong)status.RaftIndex + 1, status.RaftTerm, new byte[] { 1, 2, 3 }) },
                Commit = (ulong)status.RaftIndex + 1,
            }));
            await call.RequestStream.WriteAsync(batch);
            await call.RequestStream.CompleteAsync();
            await call.ResponseAsync; // the member has read the batch
        }

        // Wait until the member has handled both messages: it counted them, or (had it followed them) its term moved.
        using var http = new HttpClient();
        using var channel = GrpcChannel.ForAddress(_cluster.ClientUrl(name));
        var maintenance = new Maintenance.MaintenanceClient(channel);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        double refused;
        while ((refused = Counter(await http.GetStringAsync(_cluster.MetricsUrl(name) + "/metrics"), "kvorum_peer_messages_from_strangers_total")) < 2
            && (await maintenance.StatusAsync(new StatusRequest())).RaftTerm == status.RaftTerm)
        {
            Assert.True(DateTime.UtcNow < deadline, "the member neither counted the stranger's two messages nor followed them");
            await Task.Delay(50);
        }

        // The term is the cluster's own, and writes go on through the member that was targeted.
        var after = await maintenance.StatusAsync(new StatusRequest());
        Assert.Equal((status.RaftTerm, status.Leader), (after.RaftTerm, after.Leader));
        var put = await new KV.KVClient(channel).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("after"), Value = ByteString.CopyFromUtf8("1") });
        Assert.Equal(status.RaftTerm, put.Header.RaftTerm);
        Assert.Equal(2, refused);
    }

    private static double Counter(string metrics, string name) =>
        metrics.Split('\n').Where(l => l.StartsWith(name + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture)).Single();

    /// <summary>A follower's name and its status, once the cluster has a leader.</summary>
    private async Task<(string Name, StatusResponse Status)> FollowerAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            foreach (var name in _cluster.Names)
            {
                try
                {
                    using var channel = GrpcChannel.ForAddress(_cluster.ClientUrl(name));
                    var s = await new Maintenance.MaintenanceClient(channel).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                    if (s.Leader != 0 && s.Leader != s.Header.MemberId)
                        return (name, s);
                }
                catch (RpcException)
                {
                }
            }
            Assert.True(DateTime.UtcNow < deadline, "no follower with a leader");
            await Task.Delay(100);
        }
    }
}
