using Kvorum.Server.Node;
using Kvorum.Storage;

namespace Kvorum.Server.Tests.Node;

/// <summary>A new member's data directory appears whole or not at all (issue 19, finding 11).</summary>
[Collection(nameof(MemberBootstrapTests))] // BeforeMove is static
public sealed class MemberBootstrapTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kvorum-bootstrap-" + Guid.NewGuid().ToString("N"));

    public MemberBootstrapTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        MemberBootstrap.BeforeMove = null;
        Directory.Delete(_dir, recursive: true);
    }

    private ServerOptions Options(string dataDir) => new()
    {
        Name = "m1",
        DataDir = dataDir,
        InitialAdvertisePeerUrls = [new Uri("http://127.0.0.1:2380")],
        InitialCluster = new Dictionary<string, IReadOnlyList<Uri>> { ["m1"] = [new Uri("http://127.0.0.1:2380")], ["m2"] = [new Uri("http://127.0.0.1:2381")] },
        InitialClusterToken = "bootstrap-test",
    };

    [Fact]
    public void A_new_directory_holds_the_initial_members_and_the_ids_and_nothing_is_left_beside_it()
    {
        var dataDir = Path.Combine(_dir, "m1");
        Assert.True(MemberBootstrap.IsNew(dataDir));
        MemberBootstrap.Create(Options(dataDir), 7, 8);

        Assert.False(MemberBootstrap.IsNew(dataDir));
        Assert.Equal(["m1"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
        Assert.Equal(7UL, DataDirIds.Read(dataDir, DataDirIds.MemberIdFile));
        Assert.Equal(8UL, DataDirIds.Read(dataDir, DataDirIds.ClusterIdFile));
        using var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = dataDir });
        Assert.Equal(2UL, storage.LastIndex);
        Assert.Equal(2UL, storage.HardState.Commit);
    }

    [Fact]
    public void A_data_dir_given_with_a_trailing_slash_is_made_as_without()
    {
        var dataDir = Path.Combine(_dir, "m1") + Path.DirectorySeparatorChar;
        MemberBootstrap.Create(Options(dataDir), 7, 8);
        Assert.Equal(["m1"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
        Assert.Equal(7UL, DataDirIds.Read(dataDir, DataDirIds.MemberIdFile));
    }

    [Fact]
    public void A_member_that_joins_gets_its_ids_and_an_empty_log()
    {
        var dataDir = Path.Combine(_dir, "m1");
        MemberBootstrap.Create(Options(dataDir) with { InitialClusterState = InitialClusterState.Existing }, 7, 8);
        using var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = dataDir });
        Assert.True(MemberIdentityCheck.HoldsNoState(storage));
        Assert.Equal(7UL, DataDirIds.Read(dataDir, DataDirIds.MemberIdFile));
    }

    [Fact]
    public void A_bootstrap_that_fails_before_the_move_leaves_no_directory()
    {
        var dataDir = Path.Combine(_dir, "m1");
        MemberBootstrap.BeforeMove = _ => throw new IOException("disk full");
        Assert.Throws<IOException>(() => MemberBootstrap.Create(Options(dataDir), 7, 8));
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void An_empty_existing_directory_is_filled_in_place_or_left_empty()
    {
        // A mount point, say: it cannot be replaced by a rename, so its entries are moved in, the log last.
        var dataDir = Path.Combine(_dir, "mounted");
        Directory.CreateDirectory(dataDir);
        MemberBootstrap.BeforeMove = _ => throw new IOException("disk full");
        Assert.Throws<IOException>(() => MemberBootstrap.Create(Options(dataDir), 7, 8));
        Assert.Empty(Directory.GetFileSystemEntries(dataDir));

        MemberBootstrap.BeforeMove = null;
        Assert.True(MemberBootstrap.IsNew(dataDir));
        MemberBootstrap.Create(Options(dataDir), 7, 8);
        Assert.Equal(["LOCK", DataDirIds.ClusterIdFile, DataDirIds.MemberIdFile, "snap", "wal"], Directory.GetFileSystemEntries(dataDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = dataDir });
        Assert.Equal(2UL, storage.LastIndex);
    }

    [Fact]
    public void A_directory_with_anything_in_it_is_not_new_and_is_not_touched()
    {
        var dataDir = Path.Combine(_dir, "used");
        Directory.CreateDirectory(dataDir);
        File.WriteAllText(Path.Combine(dataDir, "keep"), "mine");
        Assert.False(MemberBootstrap.IsNew(dataDir));
        Assert.Throws<IOException>(() => MemberBootstrap.Create(Options(dataDir), 7, 8));
        Assert.Equal(["keep"], Directory.GetFileSystemEntries(dataDir).Select(Path.GetFileName));
    }
}
