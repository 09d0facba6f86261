using System.Text;
using Kvorum.Cli.Client;

namespace Kvorum.Cli.Tests;

/// <summary>The environment values of <c>watch -- COMMAND</c> are quoted as Go's <c>%q</c> quotes them, as etcdctl's are.</summary>
public sealed class WatchExecTests
{
    [Theory]
    [InlineData("foo", "\"foo\"")]
    [InlineData("a\"b\\c", "\"a\\\"b\\\\c\"")]
    [InlineData("line\nnext\ttab\r", "\"line\\nnext\\ttab\\r\"")]
    [InlineData("\0\u0007\u007f", "\"\\x00\\a\\x7f\"")]
    [InlineData("é 😀", "\"é 😀\"")]
    [InlineData("\u200b\ue000", "\"\\u200b\\ue000\"")]
    public void Text_is_quoted_as_Go_quotes_it(string text, string quoted) =>
        Assert.Equal(quoted, WatchExec.GoQuote(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void Bytes_that_are_not_UTF8_are_hex_escapes() =>
        Assert.Equal("\"a\\xff\\xc3b\"", WatchExec.GoQuote([(byte)'a', 0xff, 0xc3, (byte)'b']));
}
