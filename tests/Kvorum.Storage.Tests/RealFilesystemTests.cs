using Kvorum.Raft;
using Kvorum.Tests.Shared;
using Xunit.Abstractions;

namespace Kvorum.Storage.Tests;

/// <summary>
/// The WAL on a real small filesystem (a tmpfs mounted for the test): filling it up, and opening it once it
/// is read-only. Needs root to mount; skips and says so elsewhere, fails in CI.
/// </summary>
public sealed class RealFilesystemTests(ITestOutputHelper output) : IDisposable
{
    private SmallTmpfs? _fs;

    /// <summary>Mounts the test's tmpfs and returns its path.</summary>
    private string Mount(string size)
    {
        _fs = SmallTmpfs.Mount(size);
        return _fs.Path;
    }

    [SkippableFact]
    public void A_full_filesystem_fails_the_append_keeps_every_acknowledged_entry_and_recovers_after_space_is_freed()
    {
        var mount = Mount("4m");
        var dir = Path.Combine(mount, "data");
        var filler = Path.Combine(mount, "filler");
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
        var dir = Path.Combine(Mount("4m"), "data");
        using (var storage = Fixtures.Open(dir))
            storage.Save(new HardState(1, 0, 0), Fixtures.Entries(1, 3, 1));
        _fs!.Remount("remount,ro");

        var error = Assert.ThrowsAny<Exception>(() => Fixtures.Open(dir).Dispose());
        output.WriteLine($"{error.GetType().Name}: {error.Message}");
        Assert.True(error is IOException or UnauthorizedAccessException, error.ToString());
        Assert.Equal($"data directory {dir} is not writable: it is on a read-only filesystem", error.Message);
    }

    public void Dispose() => _fs?.Dispose();
}
