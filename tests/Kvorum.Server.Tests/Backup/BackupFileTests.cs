using System.Security.Cryptography;
using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Server.Backup;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Backup;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Storage;

namespace Kvorum.Server.Tests.Backup;

/// <summary>The backup file (a state-machine snapshot, zero padding, SHA-256) and the data directory a restore makes.</summary>
public sealed class BackupFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kvorum-backup-" + Guid.NewGuid().ToString("N"));

    public BackupFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static MvccStore Store()
    {
        var store = new MvccStore();
        for (var i = 0; i < 300; i++)
            store.Put(new PutRequest { Key = ByteString.CopyFromUtf8($"k{i % 40:D3}"), Value = ByteString.CopyFromUtf8(new string('v', i)) });
        store.DeleteRange(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("k007") });
        store.Compact(new CompactionRequest { Revision = 100 });
        return store;
    }

    private static Member[] OldMembers() => [new() { ID = 9, Name = "old", PeerURLs = { "http://10.0.0.9:2380" } }];

    private string Save(MvccStore store)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".snap");
        var frozen = FrozenStore.Of(store);
        using (var file = File.Create(path))
            BackupFile.Write(file, stream => NodeSnapshotFormat.Write(stream, frozen, OldMembers(), clusterId: 5, default));
        return path;
    }

    [Fact]
    public void A_backup_reads_back_as_the_same_store_and_ends_as_etcd_clients_expect()
    {
        var store = Store();
        var path = Save(store);

        // etcd's client takes a stream for a snapshot with its checksum only when its length is 32 past a multiple of 512.
        Assert.Equal(BackupDigest.Length, new FileInfo(path).Length % BackupFile.PageSize);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32)), bytes[^32..]);

        var restored = new MvccStore();
        Assert.Equal(OldMembers(), BackupFile.Read(path, restored));
        Assert.Equal(store.ToSnapshot(), restored.ToSnapshot());

        var summary = BackupFile.Summarize(path);
        Assert.Equal(store.Revision, summary.Revision);
        Assert.Equal(100, summary.CompactRevision);
        Assert.Equal(40, summary.TotalKeys);
        Assert.Equal(bytes.Length, summary.TotalSize);
        var frozen = FrozenStore.Of(store);
        Assert.Equal(MvccHash.Compute(frozen, store.Revision), summary.Hash);
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("digest")]
    public void A_damaged_backup_is_refused(string damage)
    {
        var path = Save(Store());
        var bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "flip":
                bytes[bytes.Length / 2] ^= 0x40;
                break;
            case "truncate":
                bytes = bytes[..^100];
                break;
            case "digest":
                bytes[^1] ^= 1;
                break;
        }
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<InvalidDataException>(() => BackupFile.Read(path, new MvccStore()));
        Assert.Contains("SHA-256", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => BackupDigest.Verify(path));
    }

    [Fact]
    public void A_file_with_a_right_digest_but_no_snapshot_inside_is_refused()
    {
        var path = Path.Combine(_dir, "noise.snap");
        var noise = new byte[1024];
        new Random(7).NextBytes(noise);
        File.WriteAllBytes(path, [.. noise, .. SHA256.HashData(noise)]);

        var error = Assert.Throws<InvalidDataException>(() => BackupFile.Read(path, new MvccStore()));
        Assert.Contains("is not a Kvorum snapshot", error.Message, StringComparison.Ordinal);
    }

    private ServerOptions NewMember(string name, string dataDir) => new()
    {
        Name = name,
        DataDir = dataDir,
        InitialAdvertisePeerUrls = [new Uri($"http://127.0.0.1:{Port(name)}")],
        InitialCluster = new Dictionary<string, IReadOnlyList<Uri>>
        {
            ["a"] = [new Uri($"http://127.0.0.1:{Port("a")}")],
            ["b"] = [new Uri($"http://127.0.0.1:{Port("b")}")],
            ["c"] = [new Uri($"http://127.0.0.1:{Port("c")}")],
        },
        InitialClusterToken = "restored",
    };

    private static int Port(string name) => name switch { "a" => 12380, "b" => 22380, _ => 32380 };

    [Fact]
    public void A_restore_writes_a_new_members_directory_with_the_backup_as_its_snapshot()
    {
        var store = Store();
        var path = Save(store);
        var dataDir = Path.Combine(_dir, "b");

        var (revision, keys) = BackupRestore.Restore(path, NewMember("b", dataDir));
        Assert.Equal((store.Revision, 40), (revision, keys));

        using var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = dataDir });
        var ids = new[] { "a", "b", "c" }
            .Select(n => MemberIdentity.MemberId([new Uri($"http://127.0.0.1:{Port(n)}")], "restored"))
            .Order()
            .ToArray();
        // The three members' ConfChanges, committed at term 1, and a snapshot at the last of them.
        Assert.Equal(new HardState(1, 0, 3), storage.HardState);
        Assert.Equal(3UL, storage.Snapshot.Index);
        Assert.Equal(1UL, storage.Snapshot.Term);
        Assert.Equal(ids, storage.Snapshot.ConfState.Voters.Order().ToArray());

        using var data = storage.OpenSnapshot(out _);
        var restored = new MvccStore();
        var (members, position) = NodeSnapshotFormat.Read(data, restored);
        Assert.Equal(new AppliedPosition(3, 1), position); // the restored store is labelled where the new log puts it
        Assert.Equal(store.ToSnapshot(), restored.ToSnapshot());
        Assert.Equal(["a", "b", "c"], members.OrderBy(m => m.Name).Select(m => m.Name));
        Assert.Equal(ids, members.Select(m => m.ID).Order());
        Assert.Equal(
            MemberIdentity.MemberId([new Uri("http://127.0.0.1:22380")], "restored").ToString("x16", System.Globalization.CultureInfo.InvariantCulture),
            File.ReadAllText(Path.Combine(dataDir, "member_id")));
    }

    [Fact]
    public void A_restore_leaves_an_existing_directory_alone_even_an_empty_one()
    {
        var path = Save(Store());
        var existing = Path.Combine(_dir, "existing");
        Directory.CreateDirectory(existing);
        File.WriteAllText(Path.Combine(existing, "keep"), "mine");
        var error = Assert.Throws<IOException>(() => BackupRestore.Restore(path, NewMember("a", existing)));
        Assert.Contains("exists", error.Message, StringComparison.Ordinal);
        Assert.Equal(["keep"], Directory.GetFileSystemEntries(existing).Select(Path.GetFileName));

        var empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        Assert.Throws<IOException>(() => BackupRestore.Restore(path, NewMember("a", empty)));
        Assert.Empty(Directory.GetFileSystemEntries(empty));
    }

    [Fact]
    public void A_restore_that_fails_leaves_nothing_behind()
    {
        var path = Save(Store());
        var bytes = File.ReadAllBytes(path);
        bytes[10] ^= 1;
        File.WriteAllBytes(path, bytes);
        var before = Directory.GetFileSystemEntries(_dir).Order().ToArray();
        var fresh = Path.Combine(_dir, "fresh");
        Assert.Throws<InvalidDataException>(() => BackupRestore.Restore(path, NewMember("a", fresh)));
        Assert.Equal(before, Directory.GetFileSystemEntries(_dir).Order().ToArray());

        // A failure once the storage is written (here the data directory's name is taken meanwhile): the staging
        // directory goes, and what took the name is not touched.
        var good = Save(Store());
        var racing = Path.Combine(_dir, "racing");
        string? staged = null;
        BackupRestore.BeforeRename = staging =>
        {
            staged = staging;
            Assert.True(File.Exists(Path.Combine(staging, "member_id")));
            Directory.CreateDirectory(racing);
        };
        try
        {
            Assert.ThrowsAny<IOException>(() => BackupRestore.Restore(good, NewMember("a", racing)));
        }
        finally
        {
            BackupRestore.BeforeRename = null;
        }
        Assert.NotNull(staged);
        Assert.False(Directory.Exists(staged));
        Assert.Empty(Directory.GetFileSystemEntries(racing));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(_dir), e => Path.GetFileName(e).Contains(".restoring-", StringComparison.Ordinal));
    }
}
