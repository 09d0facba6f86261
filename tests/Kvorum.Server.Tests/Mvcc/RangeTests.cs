using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Etcd.Keys;
using Kvorum.Server.Mvcc;
using static Kvorum.Server.Tests.Mvcc.StoreOps;
using SortOrder = Kvorum.Etcd.Api.RangeRequest.Types.SortOrder;
using SortTarget = Kvorum.Etcd.Api.RangeRequest.Types.SortTarget;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>Range over keys with etcd's conventions for range_end, limits, sorting and revisions.</summary>
public class RangeTests
{
    /// <summary>a=1@2, b=22@3, c=3@4, foo=x@5, foo/1=y@6, foo/2=z@7, then a=11@8.</summary>
    private static MvccStore Seeded()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("b", "22");
        store.Put("c", "3");
        store.Put("foo", "x");
        store.Put("foo/1", "y");
        store.Put("foo/2", "z");
        store.Put("a", "11");
        return store;
    }

    private static RangeResponse Range(MvccStore store, string key, string rangeEnd = "", Action<RangeRequest>? adjust = null)
    {
        var request = new RangeRequest { Key = B(key), RangeEnd = B(rangeEnd) };
        adjust?.Invoke(request);
        return store.Range(request);
    }

    [Fact]
    public void Empty_range_end_reads_one_key()
    {
        var response = Range(Seeded(), "foo");
        Assert.Equal(["foo"], response.Keys());
        Assert.Equal(1, response.Count);
        Assert.Equal(8, response.Header.Revision);
    }

    [Fact]
    public void Missing_key_reads_nothing()
    {
        var response = Range(Seeded(), "zzz");
        Assert.Empty(response.Kvs);
        Assert.Equal(0, response.Count);
        Assert.False(response.More);
    }

    [Fact]
    public void Range_end_is_exclusive()
    {
        Assert.Equal(["a", "b"], Range(Seeded(), "a", "c").Keys());
    }

    [Fact]
    public void Range_end_not_after_key_is_empty()
    {
        Assert.Empty(Range(Seeded(), "c", "a").Kvs);
        Assert.Empty(Range(Seeded(), "c", "c").Kvs);
    }

    [Fact]
    public void Zero_byte_range_end_reads_every_key_from_key_on()
    {
        Assert.Equal(["c", "foo", "foo/1", "foo/2"], Range(Seeded(), "c", "\0").Keys());
        Assert.Equal(["a", "b", "c", "foo", "foo/1", "foo/2"], Range(Seeded(), "\0", "\0").Keys());
    }

    [Fact]
    public void Prefix_reads_keys_that_start_with_it()
    {
        Assert.Equal(["foo", "foo/1", "foo/2"], Seeded().Prefix("foo").Keys());
        Assert.Equal(["foo/1", "foo/2"], Seeded().Prefix("foo/").Keys());
    }

    [Fact]
    public void Prefix_end_follows_etcds_rule()
    {
        Assert.Equal(B("ab"), KeyRange.PrefixEnd(B("aa")));
        Assert.Equal(new byte[] { (byte)'b' }, KeyRange.PrefixEnd(Google.Protobuf.ByteString.CopyFrom((byte)'a', 0xff)).ToByteArray());
        Assert.Equal(new byte[] { 0 }, KeyRange.PrefixEnd(Google.Protobuf.ByteString.CopyFrom(0xff, 0xff)).ToByteArray());
    }

    [Fact]
    public void Keys_sort_as_unsigned_bytes()
    {
        var store = new MvccStore();
        store.Put(new PutRequest { Key = Google.Protobuf.ByteString.CopyFrom(0xff), Value = B("high") });
        store.Put(new PutRequest { Key = Google.Protobuf.ByteString.CopyFrom(0x01), Value = B("low") });
        store.Put(new PutRequest { Key = Google.Protobuf.ByteString.CopyFrom(0x7f), Value = B("mid") });

        var response = Range(store, "\0", "\0");

        Assert.Equal(["low", "mid", "high"], response.Kvs.Select(kv => S(kv.Value)));
    }

    [Fact]
    public void Limit_cuts_the_result_sets_more_and_keeps_the_full_count()
    {
        var response = Range(Seeded(), "\0", "\0", r => r.Limit = 2);
        Assert.Equal(["a", "b"], response.Keys());
        Assert.True(response.More);
        Assert.Equal(6, response.Count);

        var exact = Range(Seeded(), "\0", "\0", r => r.Limit = 6);
        Assert.False(exact.More);
        Assert.Equal(6, exact.Kvs.Count);
    }

    [Fact]
    public void Count_only_returns_no_keys()
    {
        var response = Range(Seeded(), "foo", "\0", r => { r.CountOnly = true; r.Limit = 1; });
        Assert.Empty(response.Kvs);
        Assert.Equal(3, response.Count);
        Assert.False(response.More);
    }

    [Fact]
    public void Keys_only_drops_values()
    {
        var response = Range(Seeded(), "a", "c", r => r.KeysOnly = true);
        Assert.All(response.Kvs, kv => Assert.True(kv.Value.IsEmpty));
        Assert.Equal(8, response.Kvs[0].ModRevision);
    }

    [Theory]
    [InlineData(SortTarget.Key, SortOrder.Descend, new[] { "foo/2", "foo/1", "foo", "c", "b", "a" })]
    [InlineData(SortTarget.Key, SortOrder.Ascend, new[] { "a", "b", "c", "foo", "foo/1", "foo/2" })]
    [InlineData(SortTarget.Mod, SortOrder.Ascend, new[] { "b", "c", "foo", "foo/1", "foo/2", "a" })]
    [InlineData(SortTarget.Mod, SortOrder.None, new[] { "b", "c", "foo", "foo/1", "foo/2", "a" })]
    [InlineData(SortTarget.Mod, SortOrder.Descend, new[] { "a", "foo/2", "foo/1", "foo", "c", "b" })]
    [InlineData(SortTarget.Create, SortOrder.Descend, new[] { "foo/2", "foo/1", "foo", "c", "b", "a" })]
    [InlineData(SortTarget.Value, SortOrder.Ascend, new[] { "a", "b", "c", "foo", "foo/1", "foo/2" })]
    [InlineData(SortTarget.Value, SortOrder.Descend, new[] { "foo/2", "foo/1", "foo", "c", "b", "a" })]
    [InlineData(SortTarget.Version, SortOrder.Descend, new[] { "a", "b", "c", "foo", "foo/1", "foo/2" })]
    [InlineData(SortTarget.Version, SortOrder.Ascend, new[] { "b", "c", "foo", "foo/1", "foo/2", "a" })]
    public void Sorts_by_target_and_order(SortTarget target, SortOrder order, string[] expected)
    {
        var response = Range(Seeded(), "\0", "\0", r => { r.SortTarget = target; r.SortOrder = order; });
        Assert.Equal(expected, response.Keys());
    }

    [Fact]
    public void Sort_then_limit()
    {
        var response = Range(Seeded(), "\0", "\0", r =>
        {
            r.SortTarget = SortTarget.Mod;
            r.SortOrder = SortOrder.Descend;
            r.Limit = 2;
        });
        Assert.Equal(["a", "foo/2"], response.Keys());
        Assert.True(response.More);
        Assert.Equal(6, response.Count);
    }

    /// <summary>
    /// etcd's rule, found by the differential test against etcd: with a sort target but no sort order, only the first
    /// limit + 1 keys in key order are fetched, then sorted ascending by the target, then cut at the limit.
    /// </summary>
    [Fact]
    public void Sort_target_without_an_order_sorts_only_the_first_limit_plus_one_keys()
    {
        // Key order a, b, c, ...; "a" has the newest mod revision, so a whole-range sort would put it last.
        var response = Range(Seeded(), "\0", "\0", r => { r.SortTarget = SortTarget.Mod; r.Limit = 2; });
        Assert.Equal(["b", "c"], response.Keys());
        Assert.True(response.More);
        Assert.Equal(6, response.Count);

        // With the order given, the whole range is sorted first.
        var ordered = Range(Seeded(), "\0", "\0", r => { r.SortTarget = SortTarget.Create; r.SortOrder = SortOrder.Descend; r.Limit = 1; });
        Assert.Equal(["foo/2"], ordered.Keys());
    }

    [Fact]
    public void Mod_and_create_revision_filters_prune_but_do_not_change_count()
    {
        var byMod = Range(Seeded(), "\0", "\0", r => { r.MinModRevision = 4; r.MaxModRevision = 6; });
        Assert.Equal(["c", "foo", "foo/1"], byMod.Keys());
        Assert.Equal(6, byMod.Count);

        var byCreate = Range(Seeded(), "\0", "\0", r => { r.MaxCreateRevision = 3; r.Limit = 1; });
        Assert.Equal(["a"], byCreate.Keys());
        Assert.True(byCreate.More);

        var minCreate = Range(Seeded(), "\0", "\0", r => r.MinCreateRevision = 6);
        Assert.Equal(["foo/1", "foo/2"], minCreate.Keys());
    }

    [Fact]
    public void Reads_an_older_revision()
    {
        var store = Seeded();
        var atFour = Range(store, "\0", "\0", r => r.Revision = 4);
        Assert.Equal(["a", "b", "c"], atFour.Keys());
        Assert.Equal("1", S(atFour.Kvs[0].Value));
        Assert.Equal(8, atFour.Header.Revision);
        Assert.Empty(Range(store, "\0", "\0", r => r.Revision = 1).Kvs);
    }

    [Fact]
    public void Future_revision_is_an_out_of_range_error()
    {
        var error = Assert.Throws<EtcdException>(() => Range(Seeded(), "a", adjust: r => r.Revision = 9));
        Assert.Equal(EtcdErrors.FutureRevision, error.Error);
    }

    [Fact]
    public void Compacted_revision_is_an_out_of_range_error_but_the_compaction_revision_itself_is_readable()
    {
        var store = Seeded();
        store.Compact(new CompactionRequest { Revision = 5 });

        var error = Assert.Throws<EtcdException>(() => Range(store, "a", adjust: r => r.Revision = 4));
        Assert.Equal(EtcdErrors.Compacted, error.Error);

        Assert.Equal(["a", "b", "c", "foo"], Range(store, "\0", "\0", r => r.Revision = 5).Keys());
    }
}
