using Google.Protobuf;
using Kvorum.Cli.Client;

namespace Kvorum.Cli.Tests;

public class DurationParserTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("2s", 2000)]
    [InlineData("1.5m", 90_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("3", 3000)]
    public void Parses_go_style_durations(string text, int milliseconds)
    {
        Assert.True(DurationParser.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0s")]
    [InlineData("-1s")]
    [InlineData("fast")]
    [InlineData("10x")]
    public void Rejects_non_positive_or_malformed(string text) => Assert.False(DurationParser.TryParse(text, out _));

    [Theory]
    [InlineData("abc", "abd")]
    [InlineData("a\u00ff", "b")]
    [InlineData("", "\0")]
    public void Prefix_end_increments_the_last_byte_below_ff(string prefix, string end)
    {
        byte[] bytes = [.. prefix.Select(c => (byte)c)];
        Assert.Equal([.. end.Select(c => (byte)c)], KeyRanges.PrefixEnd(ByteString.CopyFrom(bytes)).ToByteArray());
    }
}
