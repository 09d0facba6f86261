using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests;

/// <summary><c>kvorum snapshot</c>'s mistakes: one line each and the exit code, before any server or file is touched.</summary>
public sealed class SnapshotCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kvorum-snapcmd-" + Guid.NewGuid().ToString("N"));

    public SnapshotCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Save_wants_exactly_one_endpoint_and_writes_nothing_otherwise()
    {
        var file = Path.Combine(_dir, "x.snap");
        var (code, output, error) = await CliRun.Run("snapshot", "save", file, "--endpoints", "127.0.0.1:1,127.0.0.1:2");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal("kvorum snapshot save: snapshot must be requested to one selected node, not multiple [127.0.0.1:1 127.0.0.1:2]", error.Trim());
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task Save_to_an_unreachable_endpoint_fails_in_one_line_and_leaves_no_part_file()
    {
        var file = Path.Combine(_dir, "x.snap");
        var port = FreePorts.Next();
        var (code, _, error) = await CliRun.Run("snapshot", "save", file, "--endpoints", $"127.0.0.1:{port}", "--dial-timeout", "1s");
        Assert.Equal(1, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("Error:", error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task Status_of_a_missing_or_foreign_file_says_so()
    {
        var missing = Path.Combine(_dir, "missing.snap");
        var (code, _, error) = await CliRun.Run("snapshot", "status", missing);
        Assert.Equal(1, code);
        Assert.Equal($"Error: {missing}: no such file", error.Trim());

        var foreign = Path.Combine(_dir, "foreign.snap");
        await File.WriteAllBytesAsync(foreign, new byte[4096 + 32]);
        (code, _, error) = await CliRun.Run("snapshot", "status", foreign);
        Assert.Equal(1, code);
        Assert.Contains("failed its SHA-256 check", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_checks_the_member_flags_as_serve_does()
    {
        var file = Path.Combine(_dir, "any.snap");
        await File.WriteAllBytesAsync(file, new byte[4096 + 32]);
        var dataDir = Path.Combine(_dir, "d");
        var (code, _, error) = await CliRun.Run("snapshot", "restore", file, "--name", "n9", "--data-dir", dataDir,
            "--initial-cluster", "n1=http://127.0.0.1:2380");
        Assert.Equal(2, code);
        Assert.Equal("kvorum snapshot restore: --initial-cluster has no member named \"n9\" (the --name)", error.Trim());

        (code, _, error) = await CliRun.Run("snapshot", "restore", file, "--name", "n1", "--data-dir", dataDir,
            "--initial-cluster", "n1=http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380");
        Assert.Equal(1, code);
        Assert.Contains("failed its SHA-256 check", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dataDir));

        // https peer URLs need no certificate to restore, as with etcdctl: only the member that serves them does.
        (code, _, error) = await CliRun.Run("snapshot", "restore", file, "--name", "n1", "--data-dir", dataDir,
            "--initial-cluster", "n1=https://127.0.0.1:2380", "--initial-advertise-peer-urls", "https://127.0.0.1:2380");
        Assert.Equal(1, code);
        Assert.Contains("failed its SHA-256 check", error, StringComparison.Ordinal);
    }
}
