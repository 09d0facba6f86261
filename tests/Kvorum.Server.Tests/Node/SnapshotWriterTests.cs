using Kvorum.Raft;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>Writing a snapshot's file off the loop (<see cref="SnapshotWriter"/>).</summary>
public sealed class SnapshotWriterTests
{
    [Fact]
    public async Task A_snapshot_written_is_handed_back_durable_with_its_size_on_the_writing_thread()
    {
        using var storage = new TemporaryStorage(entries: 10);
        WrittenSnapshot? written = null;
        Exception? failed = null;
        string? thread = null;

        await SnapshotWriter.Start(storage.Storage, 6, ConfState.OfVoters(1), stream => stream.Write(new byte[1234]),
            w => (written, thread) = (w, Thread.CurrentThread.Name), e => failed = e);

        Assert.Null(failed);
        Assert.Equal("kvorum-snapshot", thread);
        Assert.Equal(6UL, written?.Prepared?.Index);
        Assert.Equal(1234, written?.Bytes);
        Assert.True(storage.Storage.CommitSnapshot(written!.Prepared!));
        Assert.Equal(6UL, storage.Storage.Snapshot.Index);
    }

    [Fact]
    public async Task A_snapshot_that_fails_is_told_and_its_task_still_completes()
    {
        using var storage = new TemporaryStorage(entries: 10);
        Exception? failed = null;
        WrittenSnapshot? written = null;
        var task = SnapshotWriter.Start(storage.Storage, 6, ConfState.OfVoters(1), _ => throw new IOException("full"),
            w => written = w, e => failed = e);

        await task;

        Assert.True(task.IsCompletedSuccessfully);
        Assert.Null(written);
        Assert.Equal("full", failed?.Message);
        Assert.Equal(0UL, storage.Storage.Snapshot.Index);
    }
}
