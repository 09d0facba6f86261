using System.Net;
using Kvorum.Cli.View;

namespace Kvorum.Cli.Tests.View;

/// <summary><c>kvorum view --listen</c>: an IP address and port, or one clear line.</summary>
public sealed class ViewCommandTests
{
    [Theory]
    [InlineData("127.0.0.1:8080", "127.0.0.1:8080")]
    [InlineData("0.0.0.0:0", "0.0.0.0:0")]
    [InlineData("localhost:9000", "127.0.0.1:9000")]
    [InlineData("http://127.0.0.1:8081", "127.0.0.1:8081")]
    public void Listen_takes_an_address_and_port(string text, string expected) =>
        Assert.Equal(IPEndPoint.Parse(expected), ViewCommand.ParseListen(text));

    [Theory]
    [InlineData("8080")]
    [InlineData("example.org:80")]
    [InlineData("127.0.0.1")]
    public void Anything_else_is_a_usage_error(string text) =>
        Assert.Throws<UsageException>(() => ViewCommand.ParseListen(text));

    [Fact]
    public async Task A_taken_address_ends_in_one_line()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var run = await CliRun.Run("view", "--endpoints", "127.0.0.1:1", "--listen", $"127.0.0.1:{port}");
        Assert.Equal(1, run.Code);
        Assert.StartsWith($"kvorum view: cannot listen on 127.0.0.1:{port}", run.Err, StringComparison.Ordinal);
        Assert.Single(run.Err.Trim().Split('\n'));
    }
}
