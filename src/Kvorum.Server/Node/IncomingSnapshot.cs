using Kvorum.Raft;
using Kvorum.Storage;

namespace Kvorum.Server.Node;

/// <summary>
/// A snapshot arriving from a leader: the bytes go on to the storage's <see cref="SnapshotReceiver"/>, and the first
/// ones are also kept until the snapshot's header can be read, so that the member can check, before it installs the
/// snapshot, that the state inside is the one its Raft metadata names (<see cref="NodeSnapshotFormat.CheckPosition"/>).
/// Written by the transport thread that receives it, then handed to the loop, which owns it from
/// <see cref="KvorumNode.OnSnapshot"/> on.
/// </summary>
internal sealed class IncomingSnapshot(SnapshotReceiver receiver) : Stream
{
    // A header holds the member table and a few numbers; one this large is not a snapshot of ours.
    private const int MaxHeaderBytes = 1 << 20;

    private byte[] _prefix = new byte[512];
    private int _prefixLength;

    /// <summary>The storage's receiver, which the loop commits or disposes.</summary>
    public SnapshotReceiver Receiver => receiver;

    /// <summary>Where in the log the state was taken, once the header has arrived; null before, or if it is malformed.</summary>
    public AppliedPosition? Applied { get; private set; }

    /// <summary>Why the header could not be read, or null.</summary>
    public string? Malformed { get; private set; }

    /// <summary>
    /// Why the snapshot, now complete, must not be installed as <paramref name="meta"/> from <paramref name="from"/>:
    /// its header is malformed or missing, or names another position in the log than the metadata does. Null when
    /// it may be installed.
    /// </summary>
    public string? Refusal(SnapshotMetadata meta, ulong from)
    {
        ArgumentNullException.ThrowIfNull(meta);
        if (Malformed is { } malformed)
            return malformed;
        if (Applied is not { } applied)
            return "the snapshot ended before its header";
        try
        {
            NodeSnapshotFormat.CheckPosition(applied, new AppliedPosition(meta.Index, meta.Term), $"snapshot {meta.Index} from {from:x}");
            return null;
        }
        catch (InvalidDataException e)
        {
            return e.Message;
        }
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => receiver.Length;

    public override long Position
    {
        get => receiver.Length;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        receiver.Write(buffer);
        if (Applied is null && Malformed is null)
            Inspect(buffer);
    }

    private void Inspect(ReadOnlySpan<byte> buffer)
    {
        var take = Math.Min(buffer.Length, MaxHeaderBytes - _prefixLength);
        if (_prefixLength + take > _prefix.Length)
            Array.Resize(ref _prefix, Math.Min(MaxHeaderBytes, Math.Max(_prefix.Length * 2, _prefixLength + take)));
        buffer[..take].CopyTo(_prefix.AsSpan(_prefixLength));
        _prefixLength += take;
        try
        {
            if (NodeSnapshotFormat.TryReadPosition(_prefix.AsSpan(0, _prefixLength), out var position))
            {
                Applied = position;
                _prefix = [];
            }
            else if (_prefixLength >= MaxHeaderBytes)
            {
                Malformed = $"no snapshot header within its first {MaxHeaderBytes} bytes";
            }
        }
        catch (InvalidDataException e)
        {
            Malformed = e.Message;
        }
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            receiver.Dispose();
        base.Dispose(disposing);
    }
}
