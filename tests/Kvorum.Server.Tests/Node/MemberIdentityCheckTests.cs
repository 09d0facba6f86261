using System.Security.Cryptography;
using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Server.Backup;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;
using Kvorum.Storage;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// A data directory starts only as the member it belongs to (issue 19, finding 10): the rule on its own
/// (<see cref="MemberIdentityCheck.Verify"/>), and on directories made as serve and restore make them.
/// </summary>
public sealed class MemberIdentityCheckTests : IDisposable
{
    private const string Token = "identity-test";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kvorum-identity-" + Guid.NewGuid().ToString("N"));

    public MemberIdentityCheckTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Uri PeerUrl(string name) => new($"http://127.0.0.1:{2380 + name[^1] - '0'}");

    private static ulong Id(string name) => MemberIdentity.MemberId([PeerUrl(name)], Token);

    private static ulong Cluster => MemberIdentity.ClusterId([], Token);

    /// <summary>The flags of member <paramref name="name"/> of the cluster n1, n2, n3.</summary>
    private ServerOptions Options(string name, Uri? peerUrl = null, string token = Token) => new()
    {
        Name = name,
        DataDir = Path.Combine(_dir, name),
        InitialAdvertisePeerUrls = [peerUrl ?? PeerUrl(name)],
        InitialCluster = new[] { "n1", "n2", "n3" }.ToDictionary(n => n, n => (IReadOnlyList<Uri>)[n == name && peerUrl is not null ? peerUrl : PeerUrl(n)]),
        InitialClusterToken = token,
    };

    private static Member Member(string name, string? tableName = null) =>
        new() { ID = Id(name), Name = tableName ?? name, PeerURLs = { PeerUrl(name).ToString().TrimEnd('/') } };

    private static RecordedMembership Recorded(string self, params Member[] table) => new(Id(self), Cluster, table);

    [Fact]
    public void The_same_flags_again_are_accepted()
    {
        Assert.Null(MemberIdentityCheck.Verify(Recorded("n1", Member("n1"), Member("n2"), Member("n3")), Options("n1"), "d"));
    }

    [Fact]
    public void Another_members_directory_is_refused_naming_both()
    {
        var refusal = MemberIdentityCheck.Verify(Recorded("n1", Member("n1"), Member("n2"), Member("n3")), Options("n2"), "/data/n2");
        Assert.Equal(
            $"data directory /data/n2 belongs to member \"n1\" ({Id("n1"):x16}), not to \"n2\" ({Id("n2"):x16}): start each member on its own data directory",
            refusal);
    }

    [Fact]
    public void Before_names_are_known_the_flags_peer_URLs_or_name_of_another_member_are_refused()
    {
        // Members added with member add have no name until they publish it.
        var unnamed = Recorded("n1", Member("n1", ""), Member("n2", ""));
        var byUrls = MemberIdentityCheck.Verify(unnamed, Options("n2"), "d");
        Assert.StartsWith($"data directory d belongs to member {Id("n1"):x16}, not to \"n2\" ({Id("n2"):x16}) (its member table has {Id("n2"):x16} at these peer URLs)", byUrls, StringComparison.Ordinal);

        var named = Recorded("n1", Member("n1", ""), Member("n2"));
        var byName = MemberIdentityCheck.Verify(named, Options("n2", new Uri("http://127.0.0.1:9999")), "d");
        Assert.Contains($"(its member table has \"n2\" ({Id("n2"):x16}))", byName, StringComparison.Ordinal);
    }

    [Fact]
    public void New_peer_URLs_from_member_update_are_accepted_whether_or_not_the_directory_has_learned_them()
    {
        var moved = new Uri("http://127.0.0.1:7777");
        Assert.Null(MemberIdentityCheck.Verify(Recorded("n1", Member("n1"), Member("n2")), Options("n1", moved), "d"));
        var updated = Member("n1");
        updated.PeerURLs[0] = moved.ToString().TrimEnd('/');
        Assert.Null(MemberIdentityCheck.Verify(Recorded("n1", updated, Member("n2")), Options("n1", moved), "d"));
    }

    [Fact]
    public void A_joined_member_that_has_not_published_its_name_or_has_no_table_yet_is_accepted()
    {
        Assert.Null(MemberIdentityCheck.Verify(Recorded("n3", Member("n1"), Member("n3", "")), Options("n3"), "d"));
        Assert.Null(MemberIdentityCheck.Verify(Recorded("n3"), Options("n3"), "d"));
    }

    [Fact]
    public void A_rename_and_another_clusters_token_are_refused()
    {
        var renamed = MemberIdentityCheck.Verify(Recorded("n1", Member("n1", "old-name")), Options("n1"), "d");
        Assert.StartsWith($"data directory d belongs to member \"old-name\" ({Id("n1"):x16}), not to \"n1\"", renamed, StringComparison.Ordinal);

        var other = MemberIdentityCheck.Verify(Recorded("n1", Member("n1")), Options("n1", token: "another"), "d");
        Assert.Equal(
            $"data directory d belongs to cluster {Cluster:x16}, not to cluster {MemberIdentity.ClusterId([], "another"):x16} of --initial-cluster-token another: start the member with the token it was made with",
            other);
    }

    [Fact]
    public void Swapped_bootstrapped_directories_are_refused_and_left_as_they_were_and_start_once_swapped_back()
    {
        foreach (var name in new[] { "n1", "n2" })
            MemberBootstrap.Create(Options(name), Id(name), Cluster);
        var n1 = Path.Combine(_dir, "n1");
        var n2 = Path.Combine(_dir, "n2");
        Directory.Move(n1, n1 + ".aside");
        Directory.Move(n2, n1);
        Directory.Move(n1 + ".aside", n2);
        var before = Fingerprint(n1);

        using (var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = n1 }))
        {
            Assert.Null(MemberIdentityCheck.Resolve(Options("n1"), storage, out var refusal));
            Assert.StartsWith($"data directory {n1} belongs to member \"n2\" ({Id("n2"):x16}), not to \"n1\" ({Id("n1"):x16})", refusal, StringComparison.Ordinal);
        }
        Assert.Equal(before, Fingerprint(n1));

        using (var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = n1 }))
            Assert.Equal(Id("n2"), MemberIdentityCheck.Resolve(Options("n2"), storage, out _));
    }

    [Fact]
    public void Names_published_in_the_log_after_the_snapshot_are_replayed()
    {
        MemberBootstrap.Create(Options("n1"), Id("n1"), Cluster);
        using var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = Path.Combine(_dir, "n1") });
        // n1 published another name (a start with another --name), committed at index 4.
        var attributes = new InternalRequest { Id = 1, Attributes = new MemberAttributes { Id = Id("n1"), Name = "renamed" } };
        storage.Save(new HardState(1, 0, 4), [new Entry(4, 1, attributes.ToByteArray())]);
        Assert.Null(MemberIdentityCheck.Resolve(Options("n1"), storage, out var refusal));
        Assert.Contains("belongs to member \"renamed\"", refusal, StringComparison.Ordinal);
        Assert.NotNull(MemberIdentityCheck.Resolve(Options("n1") with { Name = "renamed" }, storage, out _));
    }

    [Fact]
    public void A_restored_directory_starts_with_the_restores_flags()
    {
        var backup = Path.Combine(_dir, "backup.snap");
        var store = new MvccStore();
        store.Put(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") });
        using (var file = File.Create(backup))
            BackupFile.Write(file, store, [], clusterId: 1);
        BackupRestore.Restore(backup, Options("n3"));

        using var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = Path.Combine(_dir, "n3") });
        Assert.Equal(Id("n3"), MemberIdentityCheck.Resolve(Options("n3"), storage, out _));
        Assert.Null(MemberIdentityCheck.Resolve(Options("n1"), storage, out var refusal));
        Assert.Contains("belongs to member \"n3\"", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_without_state_takes_the_flags_ids_and_an_older_one_records_its_cluster()
    {
        // Ids left by a start that never wrote state: the flags decide, and the files say so from now on.
        var fresh = Options("n1");
        using (var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = fresh.DataDir }))
        {
            DataDirIds.Write(fresh.DataDir, 42, 43);
            Assert.Equal(Id("n1"), MemberIdentityCheck.Resolve(fresh, storage, out _));
        }
        Assert.Equal(Id("n1"), DataDirIds.Read(fresh.DataDir, DataDirIds.MemberIdFile));
        Assert.Equal(Cluster, DataDirIds.Read(fresh.DataDir, DataDirIds.ClusterIdFile));

        // A directory made before cluster_id existed starts, and records it.
        MemberBootstrap.Create(Options("n2"), Id("n2"), Cluster);
        var old = Path.Combine(_dir, "n2");
        File.Delete(Path.Combine(old, DataDirIds.ClusterIdFile));
        using (var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = old }))
            Assert.Equal(Id("n2"), MemberIdentityCheck.Resolve(Options("n2"), storage, out _));
        Assert.Equal(Cluster, DataDirIds.Read(old, DataDirIds.ClusterIdFile));
    }

    private static string Fingerprint(string directory) =>
        string.Join('\n', Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetRelativePath(directory, f)} {new FileInfo(f).Length} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}"));
}
