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

    // Written by Kestrel's reading thread; read by CancelPendingRead, which may come from another thread.
    private volatile Phase _phase = Phase.Scanning;

    // Scanning only. Offsets count bytes from the start of the connection.
    private long _consumed;            // what Kestrel has consumed
    private long _nextFrame = PrefaceLength; // where the next frame header starts, once the preface is in
    private long _firstHeaders = -1;   // where the first HEADERS frame starts, once its header is in
    private ReadOnlySequence<byte> _handedOut; // the last buffer given to Kestrel; it starts at _consumed
    private SequencePosition _socketEnd;       // the end of the socket's buffer it was cut from

    // Repairing only.
    private Pipe? _repaired;
    private volatile bool _kestrelDone; // Kestrel completed its reader: the pump stops
    private Exception? _kestrelError;   // what Kestrel completed its reader with, for the socket's reader
    private long _passing;              // bytes of the current frame the pump still passes on as they come

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
            var result = await socket.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var end = _consumed + buffer.Length;
            FindFirstHeaders(buffer, end);

            // Kestrel may take the preface and the frames before the first HEADERS frame, as far as they have come;
            // not the bytes of a frame header not yet whole, which may begin that HEADERS frame.
            var limit = _firstHeaders >= 0 ? _firstHeaders : Math.Min(end, _nextFrame);
            if (limit > _consumed || result.IsCanceled)
            {
                return HandOut(
                    new ReadResult(buffer.Slice(0, limit - _consumed), result.IsCanceled, isCompleted: result.IsCompleted && limit == end),
                    buffer.End);
            }
            if (_firstHeaders < 0)
            {
                if (result.IsCompleted)
                    return Decided(Phase.PassThrough, result); // the connection ended before its first request
                socket.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            // Kestrel has consumed everything before the first HEADERS frame: decide on that frame.
            var frameLength = FrameHeaderLength + SchemeAuthority.PayloadLength(Header(buffer, 0));
            if (frameLength > FrameHeaderLength + DefaultMaxFrameSize)
                return Decided(Phase.PassThrough, result); // Kestrel refuses it; no need to hold it first
            if (buffer.Length < frameLength)
            {
                if (result.IsCompleted)
                    return Decided(Phase.PassThrough, result);
                socket.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            var repaired = SchemeAuthority.Repair(buffer.Slice(0, frameLength).ToArray());
            if (repaired is null)
                return Decided(Phase.PassThrough, result);

            // Bounded like the socket's pipe: a pump ahead of Kestrel waits for it instead of buffering the peer.
            _repaired = new Pipe(new PipeOptions(useSynchronizationContext: false));
            _repaired.Writer.Write(repaired);
            await _repaired.Writer.FlushAsync(CancellationToken.None).ConfigureAwait(false); // below the pause threshold: at once
            socket.AdvanceTo(buffer.GetPosition(frameLength));
            _phase = Phase.Repairing;
            _ = Task.Run(() => PumpAsync(_repaired.Writer), CancellationToken.None);
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
                // Kestrel looked at all it was given, kept some and wants more: so does the socket's reader, whatever
                // bytes past the cut it holds (else its next read would return at once, with the same cut). When
                // Kestrel took it all, the bytes past the cut are what it reads next.
                if (examined.Equals(_handedOut.End) && !consumed.Equals(_handedOut.End))
                    examined = _socketEnd;
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
        _kestrelError = exception;
        _kestrelDone = true;
        // The pump completes the socket's reader when it stops (it may be inside a read of it now).
        socket.CancelPendingRead();
    }

    private ReadResult HandOut(ReadResult result, SequencePosition socketEnd)
    {
        _handedOut = result.Buffer;
        _socketEnd = socketEnd;
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
            var header = Header(buffer, _nextFrame - _consumed);
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

    /// <summary>
    /// Copies the socket's bytes to <paramref name="output"/>, repairing HEADERS frames: those (up to the frame size
    /// limit) are held until whole; the bytes of every other frame pass on as they come.
    /// </summary>
    private async Task PumpAsync(PipeWriter output)
    {
        Exception? failure = null;
        try
        {
            while (!_kestrelDone)
            {
                var result = await socket.ReadAsync().ConfigureAwait(false);
                if (_kestrelDone)
                    break;
                if (result.IsCanceled)
                {
                    _repaired!.Reader.CancelPendingRead(); // a cancel meant for Kestrel's read that reached the socket
                    socket.AdvanceTo(result.Buffer.Start);
                    continue;
                }

                var buffer = result.Buffer;
                var at = Forward(buffer, output);
                if (result.IsCompleted)
                {
                    // A frame cut short by the peer goes on as it is: Kestrel reports it.
                    foreach (var segment in buffer.Slice(at))
                        output.Write(segment.Span);
                    socket.AdvanceTo(buffer.End);
                    await output.FlushAsync().ConfigureAwait(false);
                    break;
                }
                socket.AdvanceTo(buffer.GetPosition(at), buffer.End);
                var flushed = await output.FlushAsync().ConfigureAwait(false);
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
        await socket.CompleteAsync(_kestrelError).ConfigureAwait(false);
    }

    /// <summary>Writes what can go on of <paramref name="buffer"/>; returns how many of its bytes that was.</summary>
    private long Forward(ReadOnlySequence<byte> buffer, PipeWriter output)
    {
        long at = 0;
        while (at < buffer.Length)
        {
            if (_passing > 0)
            {
                var n = Math.Min(_passing, buffer.Length - at);
                foreach (var segment in buffer.Slice(at, n))
                    output.Write(segment.Span);
                _passing -= n;
                at += n;
                continue;
            }
            if (buffer.Length - at < FrameHeaderLength)
                break;
            var header = Header(buffer, at);
            long frameLength = FrameHeaderLength + SchemeAuthority.PayloadLength(header);
            if (!SchemeAuthority.IsHeadersFrame(header) || frameLength > FrameHeaderLength + DefaultMaxFrameSize)
            {
                _passing = frameLength;
                continue;
            }
            if (buffer.Length - at < frameLength)
                break; // a HEADERS frame is held until whole
            var frame = buffer.Slice(at, frameLength).ToArray();
            output.Write(SchemeAuthority.Repair(frame) ?? frame);
            at += frameLength;
        }
        return at;
    }
}

/// <summary>A connection's transport with its input replaced by an <see cref="AuthorityRepairingReader"/>.</summary>
internal sealed record RepairedInput(PipeReader Input, PipeWriter Output) : IDuplexPipe;
