using System.Buffers;
using System.IO.Pipelines;

namespace Kvorum.Server.Http2;

/// <summary>
/// The input of one client connection as Kestrel reads it, with <see cref="SchemeAuthority"/> applied to the
/// HEADERS frames of connections whose first request names a URL as its authority (etcdctl's per-endpoint
/// Maintenance calls). The first HEADERS frame decides:
/// <list type="bullet">
/// <item>it needs no repair (every client but that one): from then on each call goes straight to the socket's
/// reader, so ordinary connections pay nothing after their first request;</item>
/// <item>it does: from then on a pump copies whole frames from the socket into a pipe that Kestrel reads,
/// repairing each HEADERS frame on the way (such connections carry a few small calls).</item>
/// </list>
/// Until then, Kestrel gets the connection preface and the frames before that HEADERS frame as they arrive.
/// </summary>
internal sealed class AuthorityRepairingReader(PipeReader socket) : PipeReader
{
    private const int PrefaceLength = 24;
    private const int FrameHeaderLength = 9;

    // HTTP/2's SETTINGS_MAX_FRAME_SIZE until changed, and Kestrel's (Kvorum leaves it).
    private const int DefaultMaxFrameSize = 16_384;

    private enum Phase
    {
        Scanning,
        PassThrough,
        Repairing,
    }

    private Phase _phase = Phase.Scanning;

    // Scanning only. Offsets count bytes from the start of the connection.
    private long _consumed;            // what Kestrel has consumed
    private long _nextFrame = PrefaceLength; // where the next frame header starts, once the preface is in
    private long _firstHeaders = -1;   // where the first HEADERS frame starts, once its header is in
    private ReadOnlySequence<byte> _handedOut; // the last buffer given to Kestrel; it starts at _consumed

    // Repairing only.
    private Pipe? _repaired;
    private volatile bool _kestrelDone; // Kestrel completed its reader: the pump stops

    /// <inheritdoc/>
    /// <remarks>Once decided, a read is the socket's (or the repairing pipe's) own: no state machine of ours in between.</remarks>
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => _phase switch
    {
        Phase.PassThrough => socket.ReadAsync(cancellationToken),
        Phase.Repairing => _repaired!.Reader.ReadAsync(cancellationToken),
        _ => ScanAsync(cancellationToken),
    };

    /// <summary>A read before the first HEADERS frame has decided the phase.</summary>
    private async ValueTask<ReadResult> ScanAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await socket.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            long end = _consumed + buffer.Length;
            FindFirstHeaders(buffer, end);

            // Kestrel may take the preface and the frames before the first HEADERS frame, as far as they have come;
            // not the bytes of a frame header not yet whole, which may begin that HEADERS frame.
            long limit = _firstHeaders >= 0 ? _firstHeaders : Math.Min(end, _nextFrame);
            if (limit > _consumed || result.IsCanceled)
            {
                return HandOut(new ReadResult(
                    buffer.Slice(0, limit - _consumed), result.IsCanceled, isCompleted: result.IsCompleted && limit == end));
            }
            if (_firstHeaders < 0)
            {
                if (result.IsCompleted)
                    return Decided(Phase.PassThrough, result); // the connection ended before its first request
                socket.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            // Kestrel has consumed everything before the first HEADERS frame: decide on that frame.
            int frameLength = FrameHeaderLength + SchemeAuthority.PayloadLength(Header(buffer, 0));
            if (frameLength > FrameHeaderLength + DefaultMaxFrameSize)
                return Decided(Phase.PassThrough, result); // Kestrel refuses it; no need to hold it first
            if (buffer.Length < frameLength)
            {
                if (result.IsCompleted)
                    return Decided(Phase.PassThrough, result);
                socket.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            byte[]? repaired = SchemeAuthority.Repair(buffer.Slice(0, frameLength).ToArray());
            if (repaired is null)
                return Decided(Phase.PassThrough, result);

            _repaired = new Pipe(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
            await _repaired.Writer.WriteAsync(repaired, cancellationToken).ConfigureAwait(false);
            socket.AdvanceTo(buffer.GetPosition(frameLength));
            _phase = Phase.Repairing;
            _ = PumpAsync(_repaired.Writer);
            return await _repaired.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public override bool TryRead(out ReadResult result)
    {
        switch (_phase)
        {
            case Phase.PassThrough:
                return socket.TryRead(out result);
            case Phase.Repairing:
                return _repaired!.Reader.TryRead(out result);
            default:
                // Until the first request decides, every read goes through ReadAsync.
                result = default;
                return false;
        }
    }

    /// <inheritdoc/>
    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    /// <inheritdoc/>
    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        switch (_phase)
        {
            case Phase.Repairing:
                _repaired!.Reader.AdvanceTo(consumed, examined);
                return;
            case Phase.Scanning:
                _consumed += _handedOut.Slice(_handedOut.Start, consumed).Length;
                _handedOut = default;
                break;
        }
        socket.AdvanceTo(consumed, examined);
    }

    /// <inheritdoc/>
    public override void CancelPendingRead()
    {
        if (_phase == Phase.Repairing)
            _repaired!.Reader.CancelPendingRead();
        else
            socket.CancelPendingRead();
    }

    /// <inheritdoc/>
    public override void Complete(Exception? exception = null)
    {
        if (_phase != Phase.Repairing)
        {
            socket.Complete(exception);
            return;
        }
        _repaired!.Reader.Complete(exception);
        _kestrelDone = true;
        // The pump completes the socket's reader when it stops (it may be inside a read of it now).
        socket.CancelPendingRead();
    }

    private ReadResult HandOut(ReadResult result)
    {
        _handedOut = result.Buffer;
        return result;
    }

    private ReadResult Decided(Phase phase, ReadResult result)
    {
        _phase = phase;
        return result;
    }

    /// <summary>Walks the frame headers in <paramref name="buffer"/> (which starts at <see cref="_consumed"/>) until the first HEADERS frame.</summary>
    private void FindFirstHeaders(ReadOnlySequence<byte> buffer, long end)
    {
        while (_firstHeaders < 0 && end - _nextFrame >= FrameHeaderLength)
        {
            ReadOnlySpan<byte> header = Header(buffer, _nextFrame - _consumed);
            if (SchemeAuthority.IsHeadersFrame(header))
                _firstHeaders = _nextFrame;
            else
                _nextFrame += FrameHeaderLength + SchemeAuthority.PayloadLength(header);
        }
    }

    private static ReadOnlySpan<byte> Header(ReadOnlySequence<byte> buffer, long offset)
    {
        var slice = buffer.Slice(offset, FrameHeaderLength);
        return slice.IsSingleSegment ? slice.FirstSpan : slice.ToArray();
    }

    /// <summary>Copies whole frames from the socket to <paramref name="output"/>, repairing HEADERS frames.</summary>
    private async Task PumpAsync(PipeWriter output)
    {
        Exception? failure = null;
        try
        {
            while (!_kestrelDone)
            {
                ReadResult result = await socket.ReadAsync().ConfigureAwait(false);
                if (_kestrelDone)
                    break;
                ReadOnlySequence<byte> buffer = result.Buffer;
                long at = 0;
                while (buffer.Length - at >= FrameHeaderLength)
                {
                    ReadOnlySpan<byte> header = Header(buffer, at);
                    long frameLength = FrameHeaderLength + SchemeAuthority.PayloadLength(header);
                    if (buffer.Length - at < frameLength)
                        break;
                    ReadOnlySequence<byte> frame = buffer.Slice(at, frameLength);
                    byte[]? repaired = SchemeAuthority.IsHeadersFrame(header) ? SchemeAuthority.Repair(frame.ToArray()) : null;
                    if (repaired is not null)
                        output.Write(repaired);
                    else
                        foreach (ReadOnlyMemory<byte> segment in frame)
                            output.Write(segment.Span);
                    at += frameLength;
                }

                if (result.IsCompleted)
                {
                    // A frame cut short by the peer goes on as it is: Kestrel reports it.
                    foreach (ReadOnlyMemory<byte> segment in buffer.Slice(at))
                        output.Write(segment.Span);
                    socket.AdvanceTo(buffer.End);
                    await output.FlushAsync().ConfigureAwait(false);
                    break;
                }
                socket.AdvanceTo(buffer.GetPosition(at), buffer.End);
                FlushResult flushed = await output.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted)
                    break;
            }
        }
#pragma warning disable CA1031 // The socket's failure is Kestrel's to see, through the pipe.
        catch (Exception e)
#pragma warning restore CA1031
        {
            failure = e;
        }
        await output.CompleteAsync(failure).ConfigureAwait(false);
        await socket.CompleteAsync().ConfigureAwait(false);
    }
}

/// <summary>A connection's transport with its input replaced by an <see cref="AuthorityRepairingReader"/>.</summary>
internal sealed record RepairedInput(PipeReader Input, PipeWriter Output) : IDuplexPipe;
