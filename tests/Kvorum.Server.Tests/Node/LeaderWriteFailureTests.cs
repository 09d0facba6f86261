using System.Diagnostics;
using Kvorum.Tests.Shared;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node.Wire;
using Xunit.Abstractions;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// A leader's own WAL write runs in the background (the loop does not wait for it). When that write fails,
/// here because the disk is full, the member must stop rather than go on, and every put it acknowledged must
/// be on its disk. Needs root to mount a small tmpfs; skips and says so elsewhere, fails in CI.
/// </summary>
public sealed class LeaderWriteFailureTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _copy = Path.Combine(Path.GetTempPath(), "kvorum-leader-copy-" + Guid.NewGuid().ToString("N"));
    private SmallTmpfs? _fs;

    [SkippableFact]
    public async Task A_leader_whose_write_fails_stops_and_every_acknowledged_put_is_on_its_disk()
    {
        _fs = SmallTmpfs.Mount("2m");
        var mount = _fs.Path;

        // One member: it leads, and its own write is the one that must be durable before anything commits.
        var token = "fill-" + Guid.NewGuid().ToString("N");
        var acknowledged = new List<string>();
        var value = ByteString.CopyFrom(new byte[4096]);
        Exception? failure = null;
        await using (var cluster = InMemoryCluster.Start(1, root: mount, token: token))
        {
            var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
            for (var i = 0; i < 2_000 && failure is null; i++)
            {
                var key = $"k{i:D5}";
                try
                {
                    await leader.ProposeAsync<PutResponse>(
                        new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = value } },
                        CancellationToken.None);
                    acknowledged.Add(key);
                }
                catch (EtcdException e)
                {
                    failure = e;
                }
            }
            Assert.NotNull(failure);
            output.WriteLine($"after {acknowledged.Count} acknowledged puts: {failure!.Message}");
            Assert.True(acknowledged.Count > 50, $"only {acknowledged.Count} puts fit");
            var clock = Stopwatch.StartNew();
            while (!leader.Failed && clock.Elapsed < TimeSpan.FromSeconds(5))
                await Task.Delay(20);
            Assert.True(leader.Failed, "the member went on after its write failed");
        }

        // On a disk with room, the member restarts from what the full one kept and serves every acknowledged put.
        CopyData(mount, _copy);
        await using (var cluster = InMemoryCluster.Start(1, root: _copy, token: token))
        {
            var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
            foreach (var key in acknowledged)
            {
                var read = await leader.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, CancellationToken.None);
                Assert.True(read.Kvs.Count == 1, $"acknowledged put {key} is missing after the restart");
                Assert.Equal(value, read.Kvs[0].Value);
            }
        }
    }

    private static void CopyData(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(file) != "LOCK")
                File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }

    public void Dispose()
    {
        _fs?.Dispose();
        if (Directory.Exists(_copy))
            Directory.Delete(_copy, recursive: true);
    }
}
