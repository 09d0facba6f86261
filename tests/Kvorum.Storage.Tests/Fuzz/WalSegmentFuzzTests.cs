using Kvorum.Fuzz.Targets;
using Kvorum.Tests.Fuzzing;

namespace Kvorum.Storage.Tests.Fuzz;

/// <summary>Random and damaged WAL segments recovered as at a start (<see cref="WalSegmentTarget"/>).</summary>
public class WalSegmentFuzzTests
{
    [Fact]
    public void Random_and_damaged_segments_recover_or_are_refused_as_corrupt()
    {
        FuzzRun.Check(WalSegmentTarget.Seeds(), WalSegmentTarget.Run, GetType());
    }

    [Fact]
    public void Every_valid_segment_recovers_its_six_entries()
    {
        using var dir = new TempDir();
        foreach (var seed in WalSegmentTarget.Seeds())
        {
            var wal = Path.Combine(dir.Path, "wal");
            if (Directory.Exists(wal))
                Directory.Delete(wal, recursive: true);
            Directory.CreateDirectory(wal);
            File.WriteAllBytes(Path.Combine(wal, WalSegmentTarget.FileName(seed)), seed);
            var result = WalRecovery.Recover(OsFileSystem.Instance, wal, _ => { });
            Assert.NotNull(result);
            Assert.Equal(6, result.State.Count);
            Assert.Empty(result.Report.Warnings);
        }
    }
}
