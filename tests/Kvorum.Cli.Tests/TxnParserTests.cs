using Kvorum.Cli.Client;
using Kvorum.Server.Etcd;
using static Kvorum.Server.Etcd.Compare.Types;

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

    [Theory]
    [InlineData("val(k) = \"v\"", "line 1: bad compare \"val(k) = \"v\"\" (expected e.g. val(\"k\") = \"v\")")]
    [InlineData("size(\"k\") = \"1\"", "line 1: unknown compare target \"size\" (val, version, create, mod, lease)")]
    [InlineData("version(\"k\") = \"one\"", "line 1: \"one\" is not a number in \"version(\"k\") = \"one\"\"")]
    [InlineData("\nput k", "line 2: bad op \"put k\" (expected put KEY VALUE, get KEY or del KEY)")]
    [InlineData("\nset k v", "line 2: bad op \"set k v\" (expected put KEY VALUE, get KEY or del KEY)")]
    [InlineData("\nput \"k v", "line 2: unterminated quote in \"put \"k v\"")]
    [InlineData("\n\n\n\nput k v", "line 5: unexpected text after the failure ops: put k v")]
    public void Malformed_lines_name_their_line(string text, string message)
    {
        var error = Assert.Throws<UsageException>(() => TxnParser.Parse(text));
        Assert.Equal(message, error.Message);
    }
}
