using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using static Kvorum.Server.Tests.Mvcc.StoreOps;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>Compaction drops history while keeping what reads at or after it can see.</summary>
public class CompactTests
{
    [Fact]
    public void Compaction_keeps_the_latest_version_of_each_key()
    {
        var store = new MvccStore();
        store.Put("a", "1");   // 2
        store.Put("a", "2");   // 3
        store.Put("b", "1");   // 4
        store.Put("a", "3");   // 5

        var response = store.Compact(new CompactionRequest { Revision = 4 });

        Assert.Equal(5, response.Header.Revision);
        Assert.Equal(5, store.Revision);
        Assert.Equal(4, store.CompactRevision);
        Assert.Equal("2", S(store.Get("a", revision: 4)!.Value));
        Assert.Equal("3", S(store.Get("a")!.Value));
        Assert.Equal("1", S(store.Get("b", revision: 4)!.Value));
        Assert.Throws<EtcdException>(() => store.Get("a", revision: 3));
    }

    [Fact]
    public void Keys_deleted_before_the_compaction_disappear_entirely()
    {
        var store = new MvccStore();
        store.Put("gone", "1");  // 2
        store.Delete("gone");    // 3
        store.Put("kept", "1");  // 4
        store.Delete("kept");    // 5

        store.Compact(new CompactionRequest { Revision = 4 });

        Assert.Equal(1, store.KeyCount);
        Assert.Equal("1", S(store.Get("kept", revision: 4)!.Value));
        Assert.Null(store.Get("kept"));

        store.Compact(new CompactionRequest { Revision = 5 });
        Assert.Equal(0, store.KeyCount);
    }

    [Fact]
    public void Compacting_again_at_or_below_the_last_compaction_fails()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("a", "2");
        store.Compact(new CompactionRequest { Revision = 2 });

        var again = Assert.Throws<EtcdException>(() => store.Compact(new CompactionRequest { Revision = 2 }));
        Assert.Equal(EtcdErrors.Compacted, again.Error);
    }

    [Fact]
    public void Compacting_a_future_revision_fails()
    {
        var store = new MvccStore();
        store.Put("a", "1");

        var error = Assert.Throws<EtcdException>(() => store.Compact(new CompactionRequest { Revision = 3 }));
        Assert.Equal(EtcdErrors.FutureRevision, error.Error);
    }

    [Fact]
    public void Versions_continue_after_compaction()
    {
        var store = new MvccStore();
        store.Put("a", "1");   // 2
        store.Put("a", "2");   // 3
        store.Compact(new CompactionRequest { Revision = 3 });

        store.Put("a", "3");   // 4

        var kv = store.Get("a")!;
        Assert.Equal((2L, 4L, 3L), (kv.CreateRevision, kv.ModRevision, kv.Version));
    }
}
