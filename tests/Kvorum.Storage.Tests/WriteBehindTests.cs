using Microsoft.Win32.SafeHandles;

namespace Kvorum.Storage.Tests;

/// <summary>A large file's writeback is started a chunk at a time, waiting for the chunk before (<see cref="WriteBehind"/>).</summary>
public class WriteBehindTests
{
    private const uint WaitBefore = 1, Write = 2, WaitAfter = 4;

    [Fact]
    public void Each_chunk_is_started_once_after_the_chunk_before_it_reached_the_disk()
    {
        var calls = new List<(long Offset, long Length, uint Flags)>();
        using var handle = new SafeFileHandle();
        var wb = new WriteBehind(handle, chunk: 100, syncFileRange: (_, offset, length, flags) =>
        {
            calls.Add((offset, length, flags));
            return 0;
        });

        Assert.False(wb.IsDue(99));
        wb.Written(50);
        Assert.Empty(calls);
        Assert.True(wb.IsDue(120));
        wb.Written(120);
        Assert.False(wb.IsDue(219));
        Assert.Equal([(0L, 120L, Write)], calls);
        wb.Written(219);
        Assert.Single(calls);
        wb.Written(260);
        Assert.Equal([(0L, 120L, Write), (0L, 120L, WaitBefore | Write | WaitAfter), (120L, 140L, Write)], calls);
        Assert.True(wb.Active);
    }

    [Fact]
    public void A_failing_call_turns_it_off_and_the_fsync_does_the_rest()
    {
        var calls = 0;
        using var handle = new SafeFileHandle();
        var wb = new WriteBehind(handle, chunk: 10, syncFileRange: (_, _, _, _) =>
        {
            calls++;
            return -1;
        });

        wb.Written(10);
        wb.Written(20);
        wb.Written(30);

        Assert.Equal(1, calls);
        Assert.False(wb.Active);
        Assert.False(wb.IsDue(1_000)); // the writer stops flushing its buffer early for nothing
    }

    [SkippableFact]
    public void On_a_real_file_the_system_call_works_and_leaves_the_bytes_alone()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "sync_file_range is Linux-only; elsewhere WriteBehind does nothing");
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "big");
        var data = new byte[3_500_000];
        new Random(5).NextBytes(data);
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            var wb = new WriteBehind(file.SafeFileHandle, chunk: 1 << 20);
            for (var at = 0; at < data.Length; at += 100_000)
            {
                file.Write(data.AsSpan(at, Math.Min(100_000, data.Length - at)));
                file.Flush(flushToDisk: false);
                wb.Written(file.Position);
            }
            Assert.True(wb.Active, "sync_file_range failed on this file system");
            file.Flush(flushToDisk: true);
        }
        Assert.Equal(data, File.ReadAllBytes(path));
    }
}
