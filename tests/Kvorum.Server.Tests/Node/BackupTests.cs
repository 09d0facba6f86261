using Google.Protobuf;
using Kvorum.Server.Backup;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>A member's backup (Maintenance.Snapshot): its applied state, through a temporary file in its data directory.</summary>
public sealed class BackupTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kvorum-backup-node-" + Guid.NewGuid().ToString("N"));
    private readonly string _token = "backup-" + Guid.NewGuid().ToString("N");

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    private static InternalRequest Put(string key, string value) =>
        new() { Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } };

    [Fact]
    public async Task A_followers_backup_holds_its_applied_history_and_its_temporary_file_goes_with_the_stream()
    {
        await using var cluster = InMemoryCluster.Start(3, snapshotCount: 50, root: _root, token: _token);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        long revision = 0;
        for (var i = 0; i < 200; i++)
            revision = (await leader.ProposeAsync<PutResponse>(Put($"k{i % 30}", $"v{i}"), CancellationToken.None)).Header.Revision;
        var follower = cluster.Nodes.First(n => n != leader);
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20)))
        {
            while (follower.Status.Revision < revision)
                await Task.Delay(10, timeout.Token);
        }

        var dataDir = Path.Combine(_root, new[] { "m1", "m2", "m3" }.Single(n =>
            MemberIdentity.MemberId([new Uri($"http://{n}.invalid:2380")], _token) == follower.MemberId));
        var copy = Path.Combine(_root, "copy.snap");
        await using (var backup = await follower.WriteBackupAsync(CancellationToken.None))
        {
            var temporary = Assert.Single(Directory.GetFiles(dataDir, BackupWriter.FilePrefix + "*.tmp"));
            Assert.Equal(backup.Length, new FileInfo(temporary).Length);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(temporary));
            // One at a time: each is a whole copy of the state beside the WAL.
            var second = await Assert.ThrowsAsync<EtcdException>(() => follower.WriteBackupAsync(CancellationToken.None));
            Assert.Equal(EtcdErrors.BackupInProgress, second.Error);
            await using var file = File.Create(copy);
            await backup.CopyToAsync(file);
        }
        Assert.Empty(Directory.GetFiles(dataDir, BackupWriter.FilePrefix + "*"));
        await using (await follower.WriteBackupAsync(CancellationToken.None))
        {
            // The first one's end let this one in.
        }

        var summary = BackupFile.Summarize(copy);
        Assert.Equal(revision, summary.Revision);
        Assert.Equal(30, summary.TotalKeys);
        var hash = await follower.HashKVAsync(new HashKVRequest { Revision = revision }, CancellationToken.None);
        Assert.Equal(hash.Hash, summary.Hash);
        var members = BackupFile.Read(copy, new MvccStore());
        Assert.Equal(cluster.Nodes.Select(n => n.MemberId).Order(), members.Select(m => m.ID).Order());
    }

    [Fact]
    public async Task A_backup_left_behind_by_a_crash_is_deleted_when_the_member_loads()
    {
        Directory.CreateDirectory(Path.Combine(_root, "m1"));
        var leftover = Path.Combine(_root, "m1", BackupWriter.FilePrefix + "dead.tmp");
        var unrelated = Path.Combine(_root, "m1", "notes.tmp");
        await File.WriteAllTextAsync(leftover, "partial");
        await File.WriteAllTextAsync(unrelated, "mine");

        await using var cluster = InMemoryCluster.Start(1, root: _root, token: _token);
        Assert.False(File.Exists(leftover));
        Assert.True(File.Exists(unrelated));

        // Nor does a backup being sent count in db_size: it is not the member's storage. (One member, no writes: no
        // snapshot or segment changes the directory meanwhile.)
        var node = Assert.Single(cluster.Nodes);
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        var before = node.StorageSizes().OnDisk;
        await File.WriteAllBytesAsync(Path.Combine(_root, "m1", BackupWriter.FilePrefix + "sending.tmp"), new byte[100_000]);
        Assert.Equal(before, node.StorageSizes().OnDisk);
        await File.WriteAllBytesAsync(Path.Combine(_root, "m1", "other.bin"), new byte[100_000]);
        Assert.Equal(before + 100_000, node.StorageSizes().OnDisk);
    }
}
