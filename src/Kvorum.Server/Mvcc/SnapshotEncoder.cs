using System.Buffers;
using System.Buffers.Binary;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// Encodes numbers and byte strings into a pooled buffer and hands the destination stream large writes: the
/// snapshot of a store is millions of small fields, and writing each to the stream on its own (as a
/// <see cref="BinaryWriter"/> does) cost more than the bytes themselves. Same encoding as <see cref="BinaryWriter"/>:
/// little-endian integers, lengths as 7-bit encoded integers.
/// </summary>
internal sealed class SnapshotEncoder : IDisposable
{
    internal const int BufferSize = 64 * 1024;

    private readonly Stream _destination;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);

    // Invariant: _buffer[0.._used) is encoded and not yet written to _destination.
    private int _used;

    public SnapshotEncoder(Stream destination) => _destination = destination;

    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_used++] = value;
    }

    public void WriteInt64(long value)
    {
        Ensure(8);
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_used), value);
        _used += 8;
    }

    /// <summary>A non-negative count as a 7-bit encoded integer (at most 5 bytes).</summary>
    public void Write7BitEncoded(int value)
    {
        Ensure(5);
        var v = (uint)value;
        while (v >= 0x80)
        {
            _buffer[_used++] = (byte)(v | 0x80);
            v >>= 7;
        }
        _buffer[_used++] = (byte)v;
    }

    /// <summary>Raw bytes, no length.</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > BufferSize - _used)
        {
            Flush();
            if (bytes.Length > BufferSize)
            {
                _destination.Write(bytes);
                return;
            }
        }
        bytes.CopyTo(_buffer.AsSpan(_used));
        _used += bytes.Length;
    }

    /// <summary>A length, then the bytes.</summary>
    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        Write7BitEncoded(bytes.Length);
        WriteRaw(bytes);
    }

    /// <summary>Writes what is buffered to the destination.</summary>
    public void Flush()
    {
        if (_used == 0)
            return;
        _destination.Write(_buffer, 0, _used);
        _used = 0;
    }

    /// <summary>Returns the buffer to the pool; what was not flushed is lost.</summary>
    public void Dispose()
    {
        if (_buffer.Length == 0)
            return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private void Ensure(int bytes)
    {
        if (BufferSize - _used < bytes)
            Flush();
    }
}
