using Kvorum.Cli.Client;
using Kvorum.Etcd.Api;
using static Kvorum.Etcd.Api.Compare.Types;

namespace Kvorum.Cli.Tests;

public class TxnParserTests
{
    [Fact]
    public void Reads_compares_success_and_failure_sections()
    {
        const string Text = """
            val("k1") = "v1"
            version("k2") > "1"
            mod("k3") < "5"
            create("k4") = "0"

            put k1 "new value"
            get k2

            del k3
            put "key with space" v
            """;

        TxnRequest txn = TxnParser.Parse(Text);

        Assert.Equal(4, txn.Compare.Count);
        Assert.Equal((CompareTarget.Value, CompareResult.Equal, "k1", "v1"), (txn.Compare[0].Target, txn.Compare[0].Result, txn.Compare[0].Key.ToStringUtf8(), txn.Compare[0].Value.ToStringUtf8()));
        Assert.Equal((CompareTarget.Version, CompareResult.Greater, 1L), (txn.Compare[1].Target, txn.Compare[1].Result, txn.Compare[1].Version));
        Assert.Equal((CompareTarget.Mod, CompareResult.Less, 5L), (txn.Compare[2].Target, txn.Compare[2].Result, txn.Compare[2].ModRevision));
        Assert.Equal((CompareTarget.Create, CompareResult.Equal, 0L), (txn.Compare[3].Target, txn.Compare[3].Result, txn.Compare[3].CreateRevision));
        Assert.Equal(CompareTarget.Create, txn.Compare[3].Target);

        Assert.Equal(2, txn.Success.Count);
        Assert.Equal("new value", txn.Success[0].RequestPut.Value.ToStringUtf8());
        Assert.Equal("k2", txn.Success[1].RequestRange.Key.ToStringUtf8());
        Assert.True(txn.Success[1].RequestRange.RangeEnd.IsEmpty);

        Assert.Equal(2, txn.Failure.Count);
        Assert.Equal("k3", txn.Failure[0].RequestDeleteRange.Key.ToStringUtf8());
        Assert.Equal("key with space", txn.Failure[1].RequestPut.Key.ToStringUtf8());
    }

    [Fact]
    public void An_empty_compare_section_starts_with_a_blank_line()
    {
        TxnRequest txn = TxnParser.Parse("\nput a 1\n\nput a 2\n");

        Assert.Empty(txn.Compare);
        Assert.Single(txn.Success);
        Assert.Single(txn.Failure);
    }

    [Fact]
    public void Windows_line_endings_and_unquoted_numbers_and_escapes_are_accepted()
    {
        TxnRequest txn = TxnParser.Parse("ver(\"a\") != 3\r\nval(\"q\\\"uote\") = \"x\\ny\"\r\n\r\nget p --prefix\r\n");

        Assert.Equal((CompareResult.NotEqual, 3L), (txn.Compare[0].Result, txn.Compare[0].Version));
        Assert.Equal("q\"uote", txn.Compare[1].Key.ToStringUtf8());
        Assert.Equal("x\ny", txn.Compare[1].Value.ToStringUtf8());
        Assert.Equal("q", txn.Success[0].RequestRange.RangeEnd.ToStringUtf8());
    }

    /// <summary>etcdctl's txn takes each op with the flags of its own command (these were read as keys and range ends).</summary>
    [Fact]
    public void Ops_take_the_flags_of_their_commands()
    {
        TxnRequest txn = TxnParser.Parse("""

            put k v --prev-kv --lease=ab
            put k --ignore-value --ignore-lease
            get a --prefix --limit 2 --rev=7 --keys-only --sort-by=MODIFY --order DESCEND --consistency=s
            get a --from-key --count-only
            del a/1 --prev-kv
            del a --from-key

            """);

        PutRequest put = txn.Success[0].RequestPut;
        Assert.Equal((true, 0xabL, "v"), (put.PrevKv, put.Lease, put.Value.ToStringUtf8()));
        PutRequest keep = txn.Success[1].RequestPut;
        Assert.Equal((true, true, ""), (keep.IgnoreValue, keep.IgnoreLease, keep.Value.ToStringUtf8()));
        RangeRequest get = txn.Success[2].RequestRange;
        Assert.Equal(("b", 2L, 7L, true, true), (get.RangeEnd.ToStringUtf8(), get.Limit, get.Revision, get.KeysOnly, get.Serializable));
        Assert.Equal((RangeRequest.Types.SortTarget.Mod, RangeRequest.Types.SortOrder.Descend), (get.SortTarget, get.SortOrder));
        RangeRequest count = txn.Success[3].RequestRange;
        Assert.Equal(("\0", true), (count.RangeEnd.ToStringUtf8(), count.CountOnly));
        DeleteRangeRequest delete = txn.Success[4].RequestDeleteRange;
        Assert.Equal(("a/1", "", true), (delete.Key.ToStringUtf8(), delete.RangeEnd.ToStringUtf8(), delete.PrevKv));
        Assert.Equal("\0", txn.Success[5].RequestDeleteRange.RangeEnd.ToStringUtf8());
    }

    [Theory]
    [InlineData("val(k) = \"v\"", "line 1: bad compare \"val(k) = \"v\"\" (expected e.g. val(\"k\") = \"v\")")]
    [InlineData("size(\"k\") = \"1\"", "line 1: unknown compare target \"size\" (val, version, create, mod, lease)")]
    [InlineData("version(\"k\") = \"one\"", "line 1: \"one\" is not a number in \"version(\"k\") = \"one\"\"")]
    [InlineData("\nput k", "line 2: bad op \"put k\" (expected put KEY VALUE)")]
    [InlineData("\nput k v --ignore-value", "line 2: bad op \"put k v --ignore-value\" (expected put KEY --ignore-value)")]
    [InlineData("\nset k v", "line 2: bad op \"set k v\" (expected put, get or del)")]
    [InlineData("\ndel a/1 --prev", "line 2: unknown flag --prev in \"del a/1 --prev\"")]
    [InlineData("\nget a b --prefix", "line 2: at most one of RANGE_END, --prefix and --from-key in \"get a b --prefix\"")]
    [InlineData("\nget a --limit", "line 2: --limit needs a value in \"get a --limit\"")]
    [InlineData("\nget a --prefix=yes", "line 2: --prefix takes no value in \"get a --prefix=yes\"")]
    [InlineData("\nput \"k v", "line 2: unterminated quote in \"put \"k v\"")]
    [InlineData("\n\n\n\nput k v", "line 5: unexpected text after the failure ops: put k v")]
    public void Malformed_lines_name_their_line(string text, string message)
    {
        var error = Assert.Throws<UsageException>(() => TxnParser.Parse(text));
        Assert.Equal(message, error.Message);
    }
}
