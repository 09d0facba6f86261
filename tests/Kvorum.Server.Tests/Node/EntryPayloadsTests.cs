using System.Runtime.InteropServices;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// Log entry payloads, and the put values that share them, live in arrays on the pinned heap: on the leader, which
/// encodes the proposal, and on a follower, which decodes it from its leader.
/// </summary>
public sealed class EntryPayloadsTests
{
    [Fact]
    public void Payload_arrays_are_whole_arrays_on_the_pinned_heap()
    {
        var copy = EntryPayloads.Copy([1, 2, 3]);

        Assert.Equal([1, 2, 3], copy);
        // The pinned heap reports generation 2 from the start; a fresh ordinary array is in generation 0.
        Assert.Equal(2, GC.GetGeneration(copy));
        Assert.Equal(0, GC.GetGeneration(new byte[3]));
        Assert.Empty(EntryPayloads.Allocate(0));
    }

    [Fact]
    public async Task A_put_value_is_stored_in_a_pinned_payload_array_on_the_leader_and_on_a_follower()
    {
        await using var cluster = InMemoryCluster.Start(3);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        var follower = cluster.Nodes.First(n => n != leader);
        var value = new string('v', 300);
        await leader.ProposeAsync<PutResponse>(
            new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8(value) } },
            CancellationToken.None);

        foreach (var member in new[] { leader, follower })
        {
            var read = await member.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") }, CancellationToken.None);
            var stored = read.Kvs.Single().Value;
            Assert.Equal(value, stored.ToStringUtf8());
            Assert.True(MemoryMarshal.TryGetArray(stored.Memory, out var array));
            // A view into the entry's payload (longer than the value: the whole encoded request), which is pinned.
            Assert.True(array.Array!.Length > value.Length);
            Assert.Equal(2, GC.GetGeneration(array.Array));
        }
    }
}
