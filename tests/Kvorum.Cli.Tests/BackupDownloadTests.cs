using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Backup;

namespace Kvorum.Cli.Tests;

/// <summary>
/// The backup download that <c>kvorum snapshot save</c> and the lab share, against an in-process stand-in for a member:
/// a whole backup is renamed into place; a damaged, silent or cancelled one leaves no file and no part file.
/// </summary>
public sealed class BackupDownloadTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kvorum-download-" + Guid.NewGuid().ToString("N"));
    private FakeEtcdServer _server = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _server = await FakeEtcdServer.StartAsync();
        _channel = GrpcChannel.ForAddress("http://" + _server.Endpoint);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private string File(string name) => Path.Combine(_dir, name);

    private Maintenance.MaintenanceClient Client => new(_channel);

    /// <summary>A backup's bytes (any snapshot, then its SHA-256), streamed as a member does: a keep-alive, then chunks.</summary>
    private byte[] Serve(int snapshotBytes, int chunkBytes, Action<byte[]>? damage = null)
    {
        var snapshot = new byte[snapshotBytes];
        new Random(1).NextBytes(snapshot);
        byte[] backup = [.. snapshot, .. SHA256.HashData(snapshot)];
        damage?.Invoke(backup);
        lock (_server.Store.Gate)
        {
            _server.Store.SnapshotMessages.Add(new SnapshotResponse());
            for (var offset = 0; offset < backup.Length; offset += chunkBytes)
            {
                var length = Math.Min(chunkBytes, backup.Length - offset);
                _server.Store.SnapshotMessages.Add(new SnapshotResponse
                {
                    RemainingBytes = (ulong)(backup.Length - offset - length),
                    Blob = ByteString.CopyFrom(backup, offset, length),
                });
            }
        }
        return backup;
    }

    [Fact]
    public async Task A_whole_backup_is_renamed_into_place_owner_only_with_its_size_and_progress()
    {
        var backup = Serve(10_000, 4096);
        var reports = new List<BackupProgress>();

        var size = await BackupDownload.SaveAsync(Client, File("b.snap"),
            new BackupDownloadSettings { ProgressInterval = TimeSpan.Zero, Progress = reports.Add }, CancellationToken.None);

        Assert.Equal(backup.Length, size);
        Assert.Equal(backup, System.IO.File.ReadAllBytes(File("b.snap")));
        Assert.False(System.IO.File.Exists(File("b.snap") + BackupDownload.PartSuffix));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(File("b.snap")));
        Assert.Equal(backup.Length, reports[^1].Received);
        Assert.Equal(0UL, reports[^1].Remaining);
        Assert.Equal([0, 4096, 8192, backup.Length], reports.Select(r => r.Received));
    }

    [Fact]
    public async Task A_damaged_backup_leaves_the_old_file_and_no_part()
    {
        Serve(10_000, 4096, damage: bytes => bytes[5000] ^= 1);
        System.IO.File.WriteAllText(File("b.snap"), "older");

        var error = await Assert.ThrowsAsync<InvalidDataException>(() =>
            BackupDownload.SaveAsync(Client, File("b.snap"), new BackupDownloadSettings(), CancellationToken.None));

        Assert.Contains("failed its SHA-256 check", error.Message, StringComparison.Ordinal);
        Assert.Equal("older", System.IO.File.ReadAllText(File("b.snap")));
        Assert.False(System.IO.File.Exists(File("b.snap") + BackupDownload.PartSuffix));
    }

    [Fact]
    public async Task A_member_that_goes_silent_fails_after_the_idle_timeout()
    {
        Serve(1000, 400);
        lock (_server.Store.Gate)
            _server.Store.SnapshotStalls = true;

        await Assert.ThrowsAsync<TimeoutException>(() => BackupDownload.SaveAsync(Client, File("b.snap"),
            new BackupDownloadSettings { IdleTimeout = TimeSpan.FromMilliseconds(300) }, CancellationToken.None));

        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task A_cancelled_save_is_cancelled_and_leaves_nothing()
    {
        Serve(1000, 400);
        lock (_server.Store.Gate)
            _server.Store.SnapshotStalls = true;
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            BackupDownload.SaveAsync(Client, File("b.snap"), new BackupDownloadSettings(), cancel.Token));

        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task Snapshot_save_prints_what_it_saved()
    {
        Serve(10_000, 4096);

        var (code, output, error) = await CliRun.Run("snapshot", "save", File("b.snap"), "--endpoints", _server.Endpoint);

        Assert.Equal((0, $"Snapshot saved at {File("b.snap")}\n", ""), (code, output, error));
    }

    [Fact]
    public async Task Snapshot_save_of_a_damaged_backup_says_so_in_one_line()
    {
        Serve(10_000, 4096, damage: bytes => bytes[^1] ^= 1);

        var (code, output, error) = await CliRun.Run("snapshot", "save", File("b.snap"), "--endpoints", _server.Endpoint);

        Assert.Equal((1, ""), (code, output));
        Assert.Equal($"Error: the snapshot received is damaged: {File("b.snap.part")} failed its SHA-256 check: the file is damaged or incomplete\n", error);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task Snapshot_save_from_a_silent_member_names_the_command_timeout()
    {
        Serve(1000, 400);
        lock (_server.Store.Gate)
            _server.Store.SnapshotStalls = true;

        var (code, _, error) = await CliRun.Run("snapshot", "save", File("b.snap"), "--endpoints", _server.Endpoint, "--command-timeout", "500ms");

        Assert.Equal(1, code);
        Assert.Equal($"Error: {_server.Endpoint} sent nothing for 0.5s (--command-timeout); snapshot not saved\n", error);
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
