namespace Kvorum.Server.Backup;

/// <summary>Reads at most a given number of bytes of another stream, from its position: the snapshot before a digest.</summary>
internal sealed class BoundedReadStream(Stream inner, long length) : Stream
{
    private readonly long _length = length;

    /// <summary>Bytes not yet read.</summary>
    public long Remaining { get; private set; } = length;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position
    {
        get => _length - Remaining;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (Remaining == 0)
            return 0;
        if (buffer.Length > Remaining)
            buffer = buffer[..(int)Remaining];
        var read = inner.Read(buffer);
        Remaining -= read;
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
