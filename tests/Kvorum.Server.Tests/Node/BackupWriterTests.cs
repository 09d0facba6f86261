using Grpc.Core;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>Backups written to temporary files in a data directory, one at a time (<see cref="BackupWriter"/>), without a member.</summary>
public sealed class BackupWriterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kvorum-backups-" + Guid.NewGuid().ToString("N"));

    public BackupWriterTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Func<Task<Action<Stream>>> State(byte[] bytes) => () => Task.FromResult<Action<Stream>>(stream => stream.Write(bytes));

    private string[] Backups() => Directory.GetFiles(_dir, BackupWriter.FilePrefix + "*");

    [Fact]
    public async Task A_backup_holds_the_state_captured_and_its_file_goes_with_its_stream()
    {
        var writer = new BackupWriter(_dir);
        var state = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        await using (var backup = await writer.WriteAsync(0, State(state), CancellationToken.None))
        {
            Assert.Equal(0, backup.Position);
            var head = new byte[state.Length];
            backup.ReadExactly(head);
            Assert.Equal(state, head);
            Assert.Single(Backups());
        }
        Assert.Empty(Backups());
    }

    [Fact]
    public async Task One_backup_at_a_time_and_the_end_of_one_lets_the_next_in()
    {
        var writer = new BackupWriter(_dir);
        var first = await writer.WriteAsync(0, State([1]), CancellationToken.None);

        var second = await Assert.ThrowsAsync<EtcdException>(() => writer.WriteAsync(0, State([2]), CancellationToken.None));
        Assert.Equal(EtcdErrors.BackupInProgress, second.Error);

        await first.DisposeAsync();
        await using var third = await writer.WriteAsync(0, State([3]), CancellationToken.None);
        Assert.Single(Backups());
    }

    [Fact]
    public async Task A_backup_the_disk_has_no_room_for_is_refused_and_lets_the_next_in()
    {
        var writer = new BackupWriter(_dir);
        var error = await Assert.ThrowsAsync<EtcdException>(() => writer.WriteAsync(long.MaxValue / 2, State([1]), CancellationToken.None));
        Assert.Equal(StatusCode.ResourceExhausted, error.Error.Code);
        Assert.StartsWith("kvorum: not enough free space in the data directory for a snapshot: about ", error.Message, StringComparison.Ordinal);
        Assert.Empty(Backups());
        await using var next = await writer.WriteAsync(0, State([1]), CancellationToken.None);
    }

    [Fact]
    public async Task A_capture_that_fails_leaves_no_file_and_lets_the_next_in()
    {
        var writer = new BackupWriter(_dir);
        await Assert.ThrowsAsync<EtcdException>(() => writer.WriteAsync(0, () => Task.FromException<Action<Stream>>(new EtcdException(EtcdErrors.ServerStopped)), CancellationToken.None));
        Assert.Empty(Backups());
        await using var next = await writer.WriteAsync(0, State([1]), CancellationToken.None);
    }

    [Fact]
    public void Leftovers_of_a_crash_are_deleted_and_nothing_else_and_backups_do_not_count_as_storage()
    {
        File.WriteAllBytes(Path.Combine(_dir, BackupWriter.FilePrefix + "dead.tmp"), new byte[300]);
        File.WriteAllBytes(Path.Combine(_dir, "wal-0001"), new byte[100]);
        Directory.CreateDirectory(Path.Combine(_dir, "snap"));
        File.WriteAllBytes(Path.Combine(_dir, "snap", "1.snap"), new byte[20]);
        var writer = new BackupWriter(_dir);

        Assert.Equal(120, writer.StorageBytesOnDisk());
        writer.DeleteLeftovers();

        Assert.Empty(Backups());
        Assert.True(File.Exists(Path.Combine(_dir, "wal-0001")));
        Assert.Equal(120, writer.StorageBytesOnDisk());
        Assert.Equal(0, new BackupWriter(Path.Combine(_dir, "missing")).StorageBytesOnDisk());
        new BackupWriter(Path.Combine(_dir, "missing")).DeleteLeftovers();
    }
}
