using System.Diagnostics;
using System.Net.Sockets;
using Google.Protobuf;
using Kvorum.Server;
using Kvorum.Server.Backup;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A member with a large state opens its client port only once it has loaded that state: while it loads, a client's
/// connection is refused at once (and an etcd client turns to another endpoint) instead of hanging until its deadline.
/// </summary>
public sealed class LoadBeforeListenProcessTests : IAsyncLifetime
{
    private const int Keys = 150_000;
    private readonly ProcessCluster _cluster = new(0);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task The_client_port_opens_after_the_state_is_loaded()
    {
        // A data directory holding about 100 MB of state, made as a restore makes it: seconds to load.
        var ports = _cluster.Define("m1");
        var store = new MvccStore();
        var value = ByteString.CopyFrom(new byte[600]);
        for (var i = 0; i < Keys; i++)
            store.Put(new PutRequest { Key = ByteString.CopyFromUtf8($"key/{i:D7}"), Value = value });
        var backup = Path.GetTempFileName();
        try
        {
            await using (var file = File.Create(backup))
                BackupFile.Write(file, store, [], clusterId: 1);
            BackupRestore.Restore(backup, new ServerOptions
            {
                Name = "m1",
                DataDir = _cluster.DataDir("m1"),
                InitialAdvertisePeerUrls = [new Uri(_cluster.PeerUrl("m1"))],
                InitialCluster = new Dictionary<string, IReadOnlyList<Uri>> { ["m1"] = [new Uri(_cluster.PeerUrl("m1"))] },
                InitialClusterToken = _cluster.Token,
            });
        }
        finally
        {
            File.Delete(backup);
        }

        _cluster.Start("m1");
        var refused = 0;
        var deadline = Stopwatch.StartNew();
        while (!_cluster.LogText("m1").Contains("serving clients", StringComparison.Ordinal))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(90), "the member did not start:\n" + _cluster.LogText("m1"));
            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(System.Net.IPAddress.Loopback, ports.Client);
            }
            catch (SocketException)
            {
                refused++;
                await Task.Delay(20);
                continue;
            }
            // The port is in the ephemeral range, so a connect to it while nothing listens can, now and then, get that
            // very port as its own source port and connect to itself (TCP simultaneous open): that is no server.
            if (((System.Net.IPEndPoint)probe.Client.LocalEndPoint!).Port == ports.Client)
            {
                refused++;
                continue;
            }
            // Connected: the state was loaded before. Its log line may still be on its way through the pipe, so compare
            // the time it was logged at (taken when it was written, before the port opened) with the time of the connect.
            var connectedAt = DateTime.Now.TimeOfDay;
            var waited = Stopwatch.StartNew();
            System.Text.RegularExpressions.Match loaded;
            while (!(loaded = System.Text.RegularExpressions.Regex.Match(_cluster.LogText("m1"), @"(\d\d:\d\d:\d\d\.\d\d\d) info: \S+ loaded the data directory")).Success)
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), "the member never logged its load:\n" + _cluster.LogText("m1"));
                await Task.Delay(10);
            }
            var loadedAt = TimeSpan.ParseExact(loaded.Groups[1].Value, @"hh\:mm\:ss\.fff", System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(loadedAt <= connectedAt + TimeSpan.FromMilliseconds(20),
                $"the client port accepted a connection at {connectedAt}, before the state was loaded at {loadedAt}:\n" + _cluster.LogText("m1"));
            break;
        }
        Assert.True(refused > 0, "no connection was refused");
        Assert.Matches($"loaded the data directory in [0-9]+ ms: .* revision {Keys + 1}", _cluster.LogText("m1"));

        await _cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var count = await _cluster.Kv("m1").RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("key/"), RangeEnd = ByteString.CopyFromUtf8("key0"), CountOnly = true });
        Assert.Equal(Keys, count.Count);
    }
}
