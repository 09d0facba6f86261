using Kvorum.Fuzz.Targets;
using Kvorum.Server.Backup;
using Kvorum.Server.Mvcc;
using Kvorum.Tests.Fuzzing;

namespace Kvorum.Server.Tests.Fuzz;

/// <summary>Random and damaged backup files (<see cref="BackupFileTarget"/>).</summary>
public class BackupFileFuzzTests
{
    [Fact]
    public void Random_and_damaged_backups_are_read_or_refused_as_invalid()
    {
        FuzzRun.Check(BackupFileTarget.Seeds(), BackupFileTarget.Run, GetType(), cases: FuzzRun.DefaultCases / 2);
    }

    [Fact]
    public void A_valid_backup_reads_back_its_member_table_and_keys()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kvorum-backup-fuzz-{Guid.NewGuid():N}.db");
        try
        {
            File.WriteAllBytes(path, BackupFileTarget.Seeds()[1].AsSpan(1).ToArray());
            var store = new MvccStore();
            var header = BackupFile.ReadHeader(path, store);
            Assert.Equal("one", Assert.Single(header.Members).Name);
            Assert.Equal(9, Assert.Single(header.Leases).Id);
            Assert.Equal(2, store.KeyCount);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
