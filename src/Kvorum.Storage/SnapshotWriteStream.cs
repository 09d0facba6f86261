namespace Kvorum.Storage;

/// <summary>
/// A write-only, forward-only stream over a <see cref="SnapshotWriter"/>, so a state machine can serialize
/// itself straight into a snapshot file (checksummed as it goes) without holding the bytes in memory.
/// </summary>
public abstract class SnapshotWriteStream : Stream
{
    private protected SnapshotWriteStream(SnapshotWriter writer) => Writer = writer;

    private protected SnapshotWriter Writer { get; }

    /// <inheritdoc />
    public override bool CanRead => false;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <summary>Bytes written so far.</summary>
    public override long Length => Writer.DataLength;

    /// <inheritdoc />
    public override long Position
    {
        get => Writer.DataLength;
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer) => Writer.Write(buffer);

    /// <inheritdoc />
    public override void WriteByte(byte value) => Write([value]);

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Discards what was written unless it was committed.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
            Writer.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>The stream <see cref="DiskRaftStorage.PrepareSnapshot(ulong, Kvorum.Raft.ConfState, Action{Stream})"/> hands to its writer.</summary>
internal sealed class PreparingSnapshotStream(SnapshotWriter writer) : SnapshotWriteStream(writer)
{
    public void Commit() => Writer.Commit();
}
