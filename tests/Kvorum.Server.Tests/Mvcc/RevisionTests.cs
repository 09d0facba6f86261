using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using static Kvorum.Server.Tests.Mvcc.StoreOps;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>Revision, create revision, mod revision and version as etcd documents them.</summary>
public class RevisionTests
{
    [Fact]
    public void Empty_store_is_at_revision_1_and_the_first_put_gets_revision_2()
    {
        var store = new MvccStore();
        Assert.Equal(1, store.Revision);

        var put = store.Put("foo", "bar");

        Assert.Equal(2, put.Header.Revision);
        Assert.Equal(2, store.Revision);
        var kv = store.Get("foo")!;
        Assert.Equal((2L, 2L, 1L, "bar"), (kv.CreateRevision, kv.ModRevision, kv.Version, S(kv.Value)));
    }

    [Fact]
    public void Put_put_delete_put_tracks_create_mod_and_version()
    {
        var store = new MvccStore();
        store.Put("foo", "v1");                                  // rev 2
        store.Put("foo", "v2");                                  // rev 3
        var deleted = store.Delete("foo");       // rev 4
        var recreated = store.Put("foo", "v3");          // rev 5

        Assert.Equal(1, deleted.Deleted);
        Assert.Equal(4, deleted.Header.Revision);
        Assert.Equal(5, recreated.Header.Revision);

        var atTwo = store.Get("foo", revision: 2)!;
        Assert.Equal((2L, 2L, 1L, "v1"), (atTwo.CreateRevision, atTwo.ModRevision, atTwo.Version, S(atTwo.Value)));
        var atThree = store.Get("foo", revision: 3)!;
        Assert.Equal((2L, 3L, 2L, "v2"), (atThree.CreateRevision, atThree.ModRevision, atThree.Version, S(atThree.Value)));
        Assert.Null(store.Get("foo", revision: 4));
        var now = store.Get("foo")!;
        Assert.Equal((5L, 5L, 1L, "v3"), (now.CreateRevision, now.ModRevision, now.Version, S(now.Value)));
    }

    [Fact]
    public void Keys_share_the_store_revision()
    {
        var store = new MvccStore();
        store.Put("a", "1");   // 2
        store.Put("b", "1");   // 3
        store.Put("a", "2");   // 4

        var a = store.Get("a")!;
        var b = store.Get("b")!;
        Assert.Equal((2L, 4L, 2L), (a.CreateRevision, a.ModRevision, a.Version));
        Assert.Equal((3L, 3L, 1L), (b.CreateRevision, b.ModRevision, b.Version));
    }

    [Fact]
    public void Deleting_nothing_does_not_advance_the_revision()
    {
        var store = new MvccStore();
        store.Put("a", "1");

        var response = store.Delete("missing");

        Assert.Equal(0, response.Deleted);
        Assert.Equal(2, response.Header.Revision);
        Assert.Equal(2, store.Revision);
    }

    [Fact]
    public void Delete_range_removes_every_key_at_one_revision()
    {
        var store = new MvccStore();
        store.Put("k1", "a");
        store.Put("k2", "b");
        store.Put("k3", "c");

        var response = store.Delete("k1", "k3", prevKv: true);

        Assert.Equal(2, response.Deleted);
        Assert.Equal(5, response.Header.Revision);
        Assert.Equal(["k1", "k2"], response.PrevKvs.Select(kv => S(kv.Key)));
        Assert.Equal(["a", "b"], response.PrevKvs.Select(kv => S(kv.Value)));
        Assert.Equal(["k3"], store.Prefix("k").Keys());
    }

    [Fact]
    public void Put_returns_the_previous_key_value_when_asked()
    {
        var store = new MvccStore();
        Assert.Null(store.Put("k", "1", prevKv: true).PrevKv);

        var second = store.Put("k", "2", prevKv: true);

        Assert.Equal("1", S(second.PrevKv.Value));
        Assert.Equal(2, second.PrevKv.ModRevision);
        Assert.Null(store.Put("k", "3").PrevKv);
    }

    [Fact]
    public void Ignore_value_and_ignore_lease_keep_the_current_ones()
    {
        var store = new MvccStore();
        store.Put("k", "v", lease: 7);

        store.Put(new PutRequest { Key = B("k"), IgnoreValue = true, Lease = 9 });
        var kv = store.Get("k")!;
        Assert.Equal(("v", 9L, 2L), (S(kv.Value), kv.Lease, kv.Version));

        store.Put(new PutRequest { Key = B("k"), Value = B("w"), IgnoreLease = true });
        kv = store.Get("k")!;
        Assert.Equal(("w", 9L, 3L), (S(kv.Value), kv.Lease, kv.Version));
    }

    [Fact]
    public void Ignore_value_on_a_missing_key_fails_and_changes_nothing()
    {
        var store = new MvccStore();

        var error = Assert.Throws<EtcdException>(() =>
            store.Put(new PutRequest { Key = B("nope"), IgnoreValue = true }));

        Assert.Equal(EtcdErrors.KeyNotFound, error.Error);
        Assert.Equal(1, store.Revision);
        Assert.Equal(0, store.KeyCount);
    }

    [Fact]
    public void Leases_are_stored_and_tracked_per_key()
    {
        var store = new MvccStore();
        store.Put("a", "1", lease: 5);
        store.Put("b", "1", lease: 5);
        store.Put("c", "1", lease: 6);
        store.Put("b", "2", lease: 6);
        store.Delete("c");

        Assert.Equal(["a"], store.Leases.KeysOf(5).Select(S));
        Assert.Equal(["b"], store.Leases.KeysOf(6).Select(S));
        Assert.Equal(5, store.Get("a")!.Lease);
    }

    [Fact]
    public void Unknown_lease_is_rejected_when_a_lease_check_is_set()
    {
        var store = new MvccStore { LeaseExists = id => id == 1 };
        store.Put("a", "1", lease: 1);

        var error = Assert.Throws<EtcdException>(() => store.Put("b", "1", lease: 2));

        Assert.Equal(EtcdErrors.LeaseNotFound, error.Error);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Empty_keys_are_rejected(bool put, bool range)
    {
        var store = new MvccStore();
        var error = Assert.Throws<EtcdException>(() =>
        {
            if (put)
                store.Put(new PutRequest { Value = B("x") });
            else if (range)
                store.Range(new RangeRequest());
        });
        Assert.Equal(EtcdErrors.EmptyKey, error.Error);
    }

    [Fact]
    public void Ignore_value_with_a_value_is_rejected()
    {
        var store = new MvccStore();
        var valueError = Assert.Throws<EtcdException>(() =>
            store.Put(new PutRequest { Key = B("k"), Value = B("v"), IgnoreValue = true }));
        var leaseError = Assert.Throws<EtcdException>(() =>
            store.Put(new PutRequest { Key = B("k"), Lease = 3, IgnoreLease = true }));
        Assert.Equal(EtcdErrors.ValueProvided, valueError.Error);
        Assert.Equal(EtcdErrors.LeaseProvided, leaseError.Error);
    }
}
