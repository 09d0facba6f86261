using Kvorum.Tests.Shared;

namespace Kvorum.Server.Tests.Cluster;

/// <summary>User errors at start end in one line and a non-zero exit code, not a stack trace.</summary>
public class ServeErrorTests
{
    [Fact]
    public async Task A_listen_URL_with_a_host_name_exits_with_code_2_before_touching_the_data_dir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "kvorum-bad-" + Guid.NewGuid().ToString("N"));
        var options = new ServerOptions { DataDir = dir, ListenClientUrls = [new Uri("http://example.invalid:2379")] };
        var code = await KvorumServer.RunAsync(options, CancellationToken.None);
        Assert.Equal(2, code);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public async Task A_port_in_use_exits_with_code_1_and_leaves_no_data_dir()
    {
        using var blocker = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        blocker.Start();
        var port = ((System.Net.IPEndPoint)blocker.LocalEndpoint).Port;
        var dir = Path.Combine(Path.GetTempPath(), "kvorum-port-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new ServerOptions
            {
                DataDir = dir,
                ListenClientUrls = [new Uri($"http://127.0.0.1:{port}")],
                ListenPeerUrls = [new Uri($"http://127.0.0.1:{FreePorts.Next()}")],
            };
            Assert.Equal(1, await KvorumServer.RunAsync(options, CancellationToken.None));
            // Nothing of a member that never started may decide the next start (issue 19, finding 11).
            Assert.False(Directory.Exists(dir));
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_data_dir_that_cannot_be_created_exits_with_code_1()
    {
        // A data directory under a regular file: its parent cannot be made.
        var file = Path.GetTempFileName();
        try
        {
            var options = new ServerOptions
            {
                DataDir = Path.Combine(file, "member"),
                ListenClientUrls = [new Uri($"http://127.0.0.1:{FreePorts.Next()}")],
                ListenPeerUrls = [new Uri($"http://127.0.0.1:{FreePorts.Next()}")],
            };
            Assert.Equal(1, await KvorumServer.RunAsync(options, CancellationToken.None));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
