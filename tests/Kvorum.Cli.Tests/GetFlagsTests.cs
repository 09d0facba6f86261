using Kvorum.Cli.Client;
using SortOrder = Kvorum.Etcd.Api.RangeRequest.Types.SortOrder;
using SortTarget = Kvorum.Etcd.Api.RangeRequest.Types.SortTarget;

namespace Kvorum.Cli.Tests;

/// <summary>etcdctl's <c>get</c> sorting flags, and flags the CLI does not know.</summary>
public class GetFlagsTests
{
    [Theory]
    [InlineData(null, null, SortTarget.Key, SortOrder.None)]
    [InlineData("KEY", "ASCEND", SortTarget.Key, SortOrder.None)] // the server's own order, as etcd's Go client sends it
    [InlineData("key", "descend", SortTarget.Key, SortOrder.Descend)]
    [InlineData("MODIFY", null, SortTarget.Mod, SortOrder.None)] // the server sorts the first limit + 1 keys ascending
    [InlineData("CREATE", "ASCEND", SortTarget.Create, SortOrder.Ascend)]
    [InlineData("VALUE", "DESCEND", SortTarget.Value, SortOrder.Descend)]
    [InlineData("VERSION", "ASCEND", SortTarget.Version, SortOrder.Ascend)]
    [InlineData(null, "DESCEND", SortTarget.Key, SortOrder.Descend)]
    public void Sorting_flags_are_sent_as_etcdctl_sends_them(string? sortBy, string? order, SortTarget target, SortOrder sortOrder)
    {
        Assert.Equal((target, sortOrder), GetCommand.Sorting(sortBy, order));
    }

    [Fact]
    public void Bad_sort_flags_are_usage_errors()
    {
        Assert.Throws<UsageException>(() => GetCommand.Sorting("SIZE", null));
        Assert.Throws<UsageException>(() => GetCommand.Sorting(null, "UP"));
    }

    /// <summary>
    /// An unknown flag where a key or range end could go is refused, as etcdctl refuses it, instead of being read as
    /// the range end ([a, "--print-values") is empty, and a mistyped flag would print nothing and succeed).
    /// </summary>
    [Theory]
    [InlineData("get", "a", "--print-values")]
    [InlineData("del", "a", "--prefx")]
    [InlineData("put", "k", "--bogus")]
    public async Task An_unknown_flag_is_not_taken_for_an_argument(params string[] args)
    {
        var (code, output, error) = await CliRun.Run([.. args, "--endpoints", "127.0.0.1:1"]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Contains($"unknown flag: {args[^1]}", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_double_dash_an_argument_may_start_with_a_dash()
    {
        // Nothing listens on port 1: the command gets past parsing and fails to connect.
        var (code, _, error) = await CliRun.Run("get", "--endpoints", "127.0.0.1:1", "--dial-timeout", "1s", "--", "-k");
        Assert.NotEqual(ExitCodes.Usage, code);
        Assert.DoesNotContain("unknown flag", error, StringComparison.Ordinal);
    }
}
