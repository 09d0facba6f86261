using System.Diagnostics;
using Kvorum.Raft;
using Xunit.Abstractions;

namespace Kvorum.Storage.Tests;

/// <summary>
/// The WAL on a real small filesystem (a tmpfs mounted for the test): filling it up, and opening it once it
/// is read-only. Needs root to mount; skips and says so elsewhere, fails in CI.
/// </summary>
public sealed class RealFilesystemTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _mount = Path.Combine(Path.GetTempPath(), "kvorum-fs-" + Guid.NewGuid().ToString("N"));
    private bool _mounted;

    private void Mount(string size)
    {
        bool root = File.ReadLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2] == "0");
        if (!root && Environment.GetEnvironmentVariable("CI") == "true")
            throw new InvalidOperationException("the filesystem tests must run as root in CI");
        Skip.IfNot(root, "mounting a small tmpfs needs root");
        Directory.CreateDirectory(_mount);
        Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", _mount);
        _mounted = true;
    }

    private static void Run(params string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardError = true };
        foreach (var a in command.Skip(1))
            start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{string.Join(' ', command)}: {error}");
    }

    [SkippableFact]
    public void A_full_filesystem_fails_the_append_keeps_every_acknowledged_entry_and_recovers_after_space_is_freed()
    {
        Mount("4m");
        var dir = Path.Combine(_mount, "data");
        var filler = Path.Combine(_mount, "filler");
        File.WriteAllBytes(filler, new byte[1024 * 1024]);
        ulong acknowledged = 0;
        StorageFailedException? failure = null;
        using (var storage = Fixtures.Open(dir, segmentSize: 256 * 1024))
        {
            for (ulong i = 1; i < 10_000 && failure is null; i++)
            {
                try
                {
                    storage.Save(new HardState(1, 0, acknowledged), Fixtures.Entries(i, 1, 1, length: 4096));
                    acknowledged = i;
                }
                catch (StorageFailedException e)
                {
                    failure = e;
                }
            }

            Assert.NotNull(failure);
            output.WriteLine($"after {acknowledged} acknowledged entries: {failure!.Message}");
            Assert.Contains("disk full", failure.Message, StringComparison.Ordinal);
            Assert.True(acknowledged > 100, $"only {acknowledged} entries fit");
            // Refuses further writes rather than writing around the hole.
            Assert.Throws<StorageFailedException>(() => storage.Save(null, Fixtures.Entries(acknowledged + 1, 1, 1)));
        }

        File.Delete(filler);
        using (var reopened = Fixtures.Open(dir, segmentSize: 256 * 1024))
        {
            Assert.True(reopened.LastIndex >= acknowledged, $"acknowledged {acknowledged}, recovered up to {reopened.LastIndex}");
            var entries = Fixtures.All(reopened);
            for (ulong i = 1; i <= acknowledged; i++)
                Assert.Equal(Fixtures.Payload(i, 4096), entries[(int)(i - reopened.FirstIndex)].Data.ToArray());
            // With the space back, the log takes writes again after what it kept.
            reopened.Save(null, Fixtures.Entries(reopened.LastIndex + 1, 10, 1));
        }
    }

    [SkippableFact]
    public void A_read_only_data_directory_is_refused_with_its_path()
    {
        Mount("4m");
        var dir = Path.Combine(_mount, "data");
        using (var storage = Fixtures.Open(dir))
            storage.Save(new HardState(1, 0, 0), Fixtures.Entries(1, 3, 1));
        Run("mount", "-o", "remount,ro", _mount);

        var error = Assert.ThrowsAny<Exception>(() => Fixtures.Open(dir).Dispose());
        output.WriteLine($"{error.GetType().Name}: {error.Message}");
        Assert.True(error is IOException or UnauthorizedAccessException, error.ToString());
        Assert.Equal($"data directory {dir} is not writable: it is on a read-only filesystem", error.Message);
    }

    public void Dispose()
    {
        if (_mounted)
            Run("umount", _mount);
        if (Directory.Exists(_mount))
            Directory.Delete(_mount, recursive: true);
    }
}
