using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;
using Kvorum.Server.Tests.Mvcc;
using Google.Protobuf;
using static Kvorum.Server.Tests.Mvcc.StoreOps;

namespace Kvorum.Server.Tests.Lease;

/// <summary>Revoking a lease in the store (<see cref="MvccStore.RevokeLease"/>) and through the state machine.</summary>
public sealed class RevokeLeaseTests
{
    [Fact]
    public void Revoking_deletes_every_attached_key_in_key_order_in_one_revision()
    {
        var store = new MvccStore();
        store.Put("c", "3", lease: 7);
        store.Put("a", "1", lease: 7);
        store.Put("b", "2", lease: 8);
        store.Put("d", "4", lease: 7);
        var events = new List<MvccCommittedEventArgs>();
        store.Committed += (_, e) => events.Add(e);

        Assert.Equal(3, store.RevokeLease(7));

        Assert.Equal(6, store.Revision);
        var commit = Assert.Single(events);
        Assert.Equal(6, commit.Revision);
        Assert.Equal(["a", "c", "d"], commit.Events.Select(e => S(e.Kv.Key)));
        Assert.All(commit.Events, e => Assert.Equal(Event.Types.EventType.Delete, e.Type));
        Assert.Equal(["b"], store.Range(new RangeRequest { Key = B("\0"), RangeEnd = B("\0") }).Keys());
        Assert.Empty(store.Leases.KeysOf(7));
    }

    [Fact]
    public void Revoking_a_lease_with_no_keys_makes_no_revision()
    {
        var store = new MvccStore();
        store.Put("a", "1", lease: 7);
        store.Put("a", "2"); // a plain put detaches the key
        Assert.Equal(0, store.RevokeLease(7));
        Assert.Equal(3, store.Revision);
        Assert.Equal("2", S(store.Get("a")!.Value));
    }

    [Fact]
    public void A_put_with_another_lease_moves_the_key_and_the_old_lease_no_longer_deletes_it()
    {
        var store = new MvccStore();
        store.Put("a", "1", lease: 7);
        store.Put("a", "2", lease: 8);
        Assert.Equal(0, store.RevokeLease(7));
        Assert.Equal(1, store.RevokeLease(8));
        Assert.Null(store.Get("a"));
    }

    private static byte[] Payload(InternalRequest request) => request.ToByteArray();

    [Fact]
    public void The_state_machine_grants_checks_puts_against_the_table_and_revokes()
    {
        var state = new StateMachine(minLeaseTtl: 2);
        var (_, granted) = state.ApplyRequest(Payload(new InternalRequest { Id = 1, LeaseGrant = new LeaseGrantRequest { ID = 5, TTL = 3 } }));
        var grant = Assert.IsType<LeaseGrantResponse>(granted);
        Assert.Equal((5L, 3L, 1L), (grant.ID, grant.TTL, grant.Header.Revision));

        var (_, exists) = state.ApplyRequest(Payload(new InternalRequest { Id = 2, LeaseGrant = new LeaseGrantRequest { ID = 5, TTL = 10 } }));
        Assert.Equal(EtcdErrors.LeaseExists, Assert.IsType<EtcdException>(exists).Error);

        var put = new InternalRequest { Id = 3, Put = new PutRequest { Key = B("k"), Value = B("v"), Lease = 5 } };
        Assert.IsType<PutResponse>(state.ApplyRequest(Payload(put)).Result);
        put.Put.Lease = 6;
        Assert.Equal(EtcdErrors.LeaseNotFound, Assert.IsType<EtcdException>(state.ApplyRequest(Payload(put)).Result).Error);

        var (_, revoked) = state.ApplyRequest(Payload(new InternalRequest { Id = 4, LeaseRevoke = new LeaseRevokeRequest { ID = 5 } }));
        Assert.Equal(3, Assert.IsType<LeaseRevokeResponse>(revoked).Header.Revision);
        Assert.Null(state.Store.Get("k"));
        Assert.False(state.Leases.Exists(5));

        var (_, unknown) = state.ApplyRequest(Payload(new InternalRequest { Id = 5, LeaseRevoke = new LeaseRevokeRequest { ID = 5 } }));
        Assert.Equal(EtcdErrors.LeaseNotFound, Assert.IsType<EtcdException>(unknown).Error);
        Assert.Equal(3, state.Store.Revision);
    }

    [Fact]
    public void A_snapshot_carries_the_lease_table_and_the_attachments_come_back_from_the_store()
    {
        var state = new StateMachine();
        state.ApplyRequest(Payload(new InternalRequest { Id = 1, LeaseGrant = new LeaseGrantRequest { ID = 5, TTL = 100 } }));
        state.ApplyRequest(Payload(new InternalRequest { Id = 2, LeaseGrant = new LeaseGrantRequest { ID = 6, TTL = 30 } }));
        state.ApplyRequest(Payload(new InternalRequest { Id = 3, Put = new PutRequest { Key = B("k"), Value = B("v"), Lease = 5 } }));
        state.Advance(3, 1);
        using var buffer = new MemoryStream();
        state.Capture(clusterId: 9)(buffer);
        buffer.Position = 0;

        var restored = new StateMachine();
        restored.Restore(buffer, new AppliedPosition(3, 1), "test");

        Assert.Equal([5L, 6L], restored.Leases.Ids());
        Assert.Equal((30L, 30L), restored.Leases.TimeToLive(6));
        Assert.Equal(["k"], restored.Store.Leases.KeysOf(5).Select(S));
    }
}
