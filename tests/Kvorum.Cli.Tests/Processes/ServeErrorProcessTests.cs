using System.Net;
using System.Net.Sockets;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>What a user sees when a real <c>kvorum serve</c> cannot start: one line, no stack trace.</summary>
public sealed class ServeErrorProcessTests : IAsyncLifetime
{
    private readonly ProcessCluster _cluster = new(0);

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xunit 2 does not call a test class's DisposeAsync of the latter, and
    // the member's directory was left in the temp directory after every run.
    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_client_port_in_use_is_one_line_and_exit_code_1()
    {
        var ports = _cluster.Define("m1");
        using var blocker = new TcpListener(IPAddress.Loopback, ports.Client);
        blocker.Start();

        _cluster.Start("m1");
        var code = await _cluster.WaitForExitAsync("m1", TimeSpan.FromSeconds(30));

        // The ports are bound before the data directory is touched: nothing is loaded or logged before the error.
        var lines = _cluster.LogText("m1").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(1, code);
        var line = Assert.Single(lines);
        Assert.StartsWith($"kvorum serve: cannot listen: Failed to bind to address http://127.0.0.1:{ports.Client}", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_cluster.DataDir("m1")));
    }
}
