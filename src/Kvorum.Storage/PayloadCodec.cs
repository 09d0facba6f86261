using System.Buffers.Binary;
using Kvorum.Raft;

namespace Kvorum.Storage;

/// <summary>
/// Encodes and decodes the payloads of the non-entry WAL records. All integers little-endian.
/// A decoding error throws <see cref="FormatException"/>, which recovery turns into a
/// <see cref="WalCorruptException"/> naming the file and offset.
/// </summary>
internal static class PayloadCodec
{
    /// <summary>Size of an encoded hard state.</summary>
    public const int HardStateSize = 24;

    /// <summary>Writes term, vote and commit.</summary>
    public static byte[] EncodeHardState(HardState hs)
    {
        var b = new byte[HardStateSize];
        BinaryPrimitives.WriteUInt64LittleEndian(b, hs.Term);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), hs.Vote);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), hs.Commit);
        return b;
    }

    /// <summary>Reads what <see cref="EncodeHardState"/> wrote.</summary>
    public static HardState DecodeHardState(ReadOnlySpan<byte> p)
    {
        if (p.Length != HardStateSize)
            throw new FormatException($"hard state payload is {p.Length} bytes, expected {HardStateSize}");
        return new HardState(
            BinaryPrimitives.ReadUInt64LittleEndian(p),
            BinaryPrimitives.ReadUInt64LittleEndian(p[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(p[16..]));
    }

    /// <summary>Snapshot payload: file id, then the configuration. Index and term go in the record header.</summary>
    public static byte[] EncodeSnapshot(SnapshotRef snapshot)
    {
        var w = new PayloadBuilder();
        w.U64(snapshot.FileId);
        WriteConf(ref w, snapshot.Metadata.ConfState);
        return w.ToArray();
    }

    /// <summary>Reads what <see cref="EncodeSnapshot"/> wrote.</summary>
    public static SnapshotRef DecodeSnapshot(ulong index, ulong term, ReadOnlySpan<byte> p)
    {
        var r = new PayloadParser(p);
        var fileId = r.U64();
        var conf = ReadConf(ref r);
        r.End();
        return new SnapshotRef(new SnapshotMetadata(index, term, conf), fileId);
    }

    /// <summary>Segment header payload: sequence number, snapshot (index, term, file id, configuration), hard state.</summary>
    public static byte[] EncodeSegmentHeader(ulong sequence, SnapshotRef snapshot, HardState hs)
    {
        var w = new PayloadBuilder();
        w.U64(sequence);
        w.U64(snapshot.Index);
        w.U64(snapshot.Metadata.Term);
        w.U64(snapshot.FileId);
        WriteConf(ref w, snapshot.Metadata.ConfState);
        w.U64(hs.Term);
        w.U64(hs.Vote);
        w.U64(hs.Commit);
        return w.ToArray();
    }

    /// <summary>Reads what <see cref="EncodeSegmentHeader"/> wrote.</summary>
    public static (ulong Sequence, SnapshotRef Snapshot, HardState HardState) DecodeSegmentHeader(ReadOnlySpan<byte> p)
    {
        var r = new PayloadParser(p);
        var seq = r.U64();
        var index = r.U64();
        var term = r.U64();
        var fileId = r.U64();
        var conf = ReadConf(ref r);
        var hs = new HardState(r.U64(), r.U64(), r.U64());
        r.End();
        return (seq, new SnapshotRef(new SnapshotMetadata(index, term, conf), fileId), hs);
    }

    /// <summary>Writes voters then learners, each as a count and the ids.</summary>
    public static void WriteConf(ref PayloadBuilder w, ConfState conf)
    {
        w.U32((uint)conf.Voters.Length);
        foreach (var v in conf.Voters)
            w.U64(v);
        w.U32((uint)conf.Learners.Length);
        foreach (var l in conf.Learners)
            w.U64(l);
    }

    /// <summary>Reads what <see cref="WriteConf"/> wrote.</summary>
    public static ConfState ReadConf(ref PayloadParser r)
    {
        var voters = new ulong[r.Count()];
        for (var i = 0; i < voters.Length; i++)
            voters[i] = r.U64();
        var learners = new ulong[r.Count()];
        for (var i = 0; i < learners.Length; i++)
            learners[i] = r.U64();
        try
        {
            return new ConfState(voters, learners);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"invalid configuration: {e.Message}", e);
        }
    }
}

/// <summary>Appends little-endian integers to a growing buffer.</summary>
internal struct PayloadBuilder
{
    private byte[] _buffer;
    private int _length;

    /// <summary>Appends a 64-bit value.</summary>
    public void U64(ulong v)
    {
        Ensure(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_length), v);
        _length += 8;
    }

    /// <summary>Appends a 32-bit value.</summary>
    public void U32(uint v)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_length), v);
        _length += 4;
    }

    /// <summary>The bytes written so far.</summary>
    public readonly byte[] ToArray() => _buffer is null ? [] : _buffer.AsSpan(0, _length).ToArray();

    private void Ensure(int n)
    {
        _buffer ??= new byte[64];
        if (_length + n > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + n));
    }
}

/// <summary>Reads little-endian integers, throwing <see cref="FormatException"/> on overrun.</summary>
internal ref struct PayloadParser(ReadOnlySpan<byte> data)
{
    private ReadOnlySpan<byte> _rest = data;

    /// <summary>Reads a 64-bit value.</summary>
    public ulong U64()
    {
        if (_rest.Length < 8)
            throw new FormatException("payload too short");
        var v = BinaryPrimitives.ReadUInt64LittleEndian(_rest);
        _rest = _rest[8..];
        return v;
    }

    /// <summary>Reads a 32-bit element count and checks it can fit in what is left.</summary>
    public int Count()
    {
        if (_rest.Length < 4)
            throw new FormatException("payload too short");
        var v = BinaryPrimitives.ReadUInt32LittleEndian(_rest);
        _rest = _rest[4..];
        if (v > (uint)_rest.Length / 8)
            throw new FormatException($"count {v} exceeds the payload");
        return (int)v;
    }

    /// <summary>Throws unless everything was read.</summary>
    public readonly void End()
    {
        if (!_rest.IsEmpty)
            throw new FormatException($"{_rest.Length} unexpected trailing bytes");
    }
}
