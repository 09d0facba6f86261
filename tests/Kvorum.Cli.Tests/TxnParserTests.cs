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

        var txn = TxnParser.Parse(Text);

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
        var txn = TxnParser.Parse("\nput a 1\n\nput a 2\n");

        Assert.Empty(txn.Compare);
        Assert.Single(txn.Success);
        Assert.Single(txn.Failure);
    }

    [Fact]
    public void Windows_line_endings_and_unquoted_numbers_and_escapes_are_accepted()
    {
        var txn = TxnParser.Parse("ver(\"a\") != 3\r\nval(\"q\\\"uote\") = \"x\\ny\"\r\n\r\nget p --prefix\r\n");

        Assert.Equal((CompareResult.NotEqual, 3L), (txn.Compare[0].Result, txn.Compare[0].Version));
        Assert.Equal("q\"uote", txn.Compare[1].Key.ToStringUtf8());
        Assert.Equal("x\ny", txn.Compare[1].Value.ToStringUtf8());
        Assert.Equal("q", txn.Success[0].RequestRange.RangeEnd.ToStringUtf8());
    }

    /// <summary>etcdctl's txn takes each op with the flags of its own command (these were read as keys and range ends).</summary>
    [Fact]
    public void Ops_take_the_flags_of_their_commands()
    {
        var txn = TxnParser.Parse("""

            put k v --prev-kv --lease=ab
            put k --ignore-value --ignore-lease
            get a --prefix --limit 2 --rev=7 --keys-only --sort-by=MODIFY --order DESCEND --consistency=s
            get a --from-key --count-only
            del a/1 --prev-kv
            del a --from-key

            """);

        var put = txn.Success[0].RequestPut;
        Assert.Equal((true, 0xabL, "v"), (put.PrevKv, put.Lease, put.Value.ToStringUtf8()));
        var keep = txn.Success[1].RequestPut;
        Assert.Equal((true, true, ""), (keep.IgnoreValue, keep.IgnoreLease, keep.Value.ToStringUtf8()));
        var get = txn.Success[2].RequestRange;
        Assert.Equal(("b", 2L, 7L, true, true), (get.RangeEnd.ToStringUtf8(), get.Limit, get.Revision, get.KeysOnly, get.Serializable));
        Assert.Equal((RangeRequest.Types.SortTarget.Mod, RangeRequest.Types.SortOrder.Descend), (get.SortTarget, get.SortOrder));
        var count = txn.Success[3].RequestRange;
        Assert.Equal(("\0", true), (count.RangeEnd.ToStringUtf8(), count.CountOnly));
        var delete = txn.Success[4].RequestDeleteRange;
        Assert.Equal(("a/1", "", true), (delete.Key.ToStringUtf8(), delete.RangeEnd.ToStringUtf8(), delete.PrevKv));
        Assert.Equal("\0", txn.Success[5].RequestDeleteRange.RangeEnd.ToStringUtf8());
    }

    [Fact]
    public void Get_prefix_put_prev_kv_and_del_from_key_on_op_lines()
    {
        var txn = TxnParser.Parse("\nget fruit/ --prefix\nput k v --prev-kv\ndel m --from-key\ndel \"\" --from-key\n");

        Assert.Equal(("fruit/", "fruit0"), (txn.Success[0].RequestRange.Key.ToStringUtf8(), txn.Success[0].RequestRange.RangeEnd.ToStringUtf8()));
        Assert.True(txn.Success[1].RequestPut.PrevKv);
        Assert.Equal(("m", "\0"), (txn.Success[2].RequestDeleteRange.Key.ToStringUtf8(), txn.Success[2].RequestDeleteRange.RangeEnd.ToStringUtf8()));
        Assert.Equal(("\0", "\0"), (txn.Success[3].RequestDeleteRange.Key.ToStringUtf8(), txn.Success[3].RequestDeleteRange.RangeEnd.ToStringUtf8()));
    }

    /// <summary>
    /// Op lines keep their own word rules where the command line's parser has others: only a word starting with
    /// <c>--</c> is a flag, a switch takes no value, a flag's value may look like a flag, the last of a repeated flag
    /// wins, and <c>--</c>, <c>@file</c> and <c>[directive]</c> are plain words.
    /// </summary>
    [Fact]
    public void Op_lines_read_words_as_etcdctl_does()
    {
        var txn = TxnParser.Parse("""

            put -- -v
            put @k [v]
            get a --keys-only true
            get a --limit 1 --limit=2
            get a --sort-by=version --order descend
            delete a --prev-kv

            """);

        Assert.Equal(("--", "-v"), (txn.Success[0].RequestPut.Key.ToStringUtf8(), txn.Success[0].RequestPut.Value.ToStringUtf8()));
        Assert.Equal(("@k", "[v]"), (txn.Success[1].RequestPut.Key.ToStringUtf8(), txn.Success[1].RequestPut.Value.ToStringUtf8()));
        Assert.Equal(("true", true), (txn.Success[2].RequestRange.RangeEnd.ToStringUtf8(), txn.Success[2].RequestRange.KeysOnly));
        Assert.Equal(2L, txn.Success[3].RequestRange.Limit);
        Assert.Equal((RangeRequest.Types.SortTarget.Version, RangeRequest.Types.SortOrder.Descend), (txn.Success[4].RequestRange.SortTarget, txn.Success[4].RequestRange.SortOrder));
        Assert.True(txn.Success[5].RequestDeleteRange.PrevKv);
    }

    [Theory]
    [InlineData("\nget a --limit=x", "line 2: \"x\" is not a number in \"get a --limit=x\"")]
    [InlineData("\nget a --rev --prefix", "line 2: \"--prefix\" is not a number in \"get a --rev --prefix\"")]
    [InlineData("\nget a --limit \" 5\"", "line 2: \" 5\" is not a number in \"get a --limit \" 5\"\"")]
    [InlineData("\nget a --consistency=q", "line 2: unknown consistency q in \"get a --consistency=q\" (l or s)")]
    [InlineData("\nget a --sort-by=size", "bad sort target size: expected CREATE, KEY, MODIFY, VALUE or VERSION")]
    [InlineData("\nput k v --lease=zz", "line 2: bad lease ID zz in \"put k v --lease=zz\" (expected hexadecimal)")]
    [InlineData("\nput k v --lease:ab", "line 2: unknown flag --lease:ab in \"put k v --lease:ab\"")]
    [InlineData("\ndel a --limit=1", "line 2: unknown flag --limit in \"del a --limit=1\"")]
    [InlineData("\nput k v --endpoints=127.0.0.1:2379", "line 2: unknown flag --endpoints in \"put k v --endpoints=127.0.0.1:2379\"")]
    [InlineData("\nget", "line 2: bad op \"get\" (expected get KEY [RANGE_END])")]
    [InlineData("\ndel a b c", "line 2: bad op \"del a b c\" (expected del KEY [RANGE_END])")]
    [InlineData("\ndel a --from-key --prefix", "line 2: at most one of RANGE_END, --prefix and --from-key in \"del a --from-key --prefix\"")]
    public void Bad_flag_values_and_flags_of_other_commands_are_refused(string text, string message)
    {
        var error = Assert.Throws<UsageException>(() => TxnParser.Parse(text));
        Assert.Equal(message, error.Message);
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
