using System.Runtime.InteropServices;
using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Node;

/// <summary>
/// Lets a put's value in the MVCC store share the bytes of the log entry it came from instead of holding a copy.
/// </summary>
/// <remarks>
/// <para>Why: every put leaves its value in the store until a compaction, and its entry in the in-memory log until
/// the next snapshot, so both outlive several collections and the runtime copies them from generation to
/// generation. Parsing an entry copies the value out of it; pointing the value back into the entry's array
/// halves what each put leaves for the garbage collector to promote.</para>
/// <para>Only when the entry's payload is a whole array of its own (as a proposal's encoding and a payload parsed
/// from a peer's message are): a payload that is a slice of a larger buffer (a WAL segment read at recovery)
/// would keep all of that buffer alive for as long as the value.</para>
/// </remarks>
internal static class PutValueSharing
{
    // Field numbers: InternalRequest.put = 2 (Node/Wire/node.proto); PutRequest.value = 2 (etcd's rpc.proto).
    private const int InternalRequestPutField = 2;
    private const int PutRequestValueField = 2;

    /// <summary>
    /// Replaces <paramref name="put"/>'s value, parsed from <paramref name="payload"/> (an encoded
    /// <c>InternalRequest</c>), with a view of the same bytes inside <paramref name="payload"/>, if the payload is a
    /// whole array and the bytes found there equal the parsed value. Otherwise leaves the parsed copy.
    /// </summary>
    public static void ShareValue(PutRequest put, ReadOnlyMemory<byte> payload)
    {
        if (put.Value.IsEmpty
            || !MemoryMarshal.TryGetArray(payload, out var whole)
            || whole.Offset != 0 || whole.Count != whole.Array!.Length)
            return;
        if (!TryFindValue(payload.Span, out var offset, out var length))
            return;
        var found = payload.Slice(offset, length);
        if (!found.Span.SequenceEqual(put.Value.Span))
            return;
        put.Value = UnsafeByteOperations.UnsafeWrap(found);
    }

    /// <summary>
    /// Finds the last <c>put.value</c> field of an encoded <c>InternalRequest</c> (protobuf keeps the last of
    /// repeated singular fields, and merges repeated message fields). False if the encoding cannot be walked.
    /// </summary>
    internal static bool TryFindValue(ReadOnlySpan<byte> request, out int offset, out int length)
    {
        offset = length = -1;
        var position = 0;
        while (position < request.Length)
        {
            if (!TryReadField(request, ref position, out var field, out var start, out var size))
                return false;
            if (field == InternalRequestPutField && size >= 0)
            {
                var put = request.Slice(start, size);
                var inner = 0;
                while (inner < put.Length)
                {
                    if (!TryReadField(put, ref inner, out var putField, out var valueStart, out var valueSize))
                        return false;
                    if (putField == PutRequestValueField && valueSize >= 0)
                        (offset, length) = (start + valueStart, valueSize);
                }
            }
        }
        return offset >= 0;
    }

    /// <summary>
    /// Reads one field at <paramref name="position"/> and moves past it. A length-delimited field gives its
    /// content's start and size; any other wire type gives size -1.
    /// </summary>
    private static bool TryReadField(ReadOnlySpan<byte> buffer, ref int position, out int field, out int start, out int size)
    {
        field = start = 0;
        size = -1;
        if (!TryReadVarint(buffer, ref position, out var tag))
            return false;
        field = (int)(tag >> 3);
        switch ((int)(tag & 7))
        {
            case 0: // varint
                return TryReadVarint(buffer, ref position, out _);
            case 1: // 64-bit
                position += 8;
                return position <= buffer.Length;
            case 2: // length-delimited
                if (!TryReadVarint(buffer, ref position, out var length) || length > (ulong)(buffer.Length - position))
                    return false;
                start = position;
                size = (int)length;
                position += size;
                return true;
            case 5: // 32-bit
                position += 4;
                return position <= buffer.Length;
            default: // groups are not used by these messages
                return false;
        }
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> buffer, ref int position, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= buffer.Length)
                return false;
            var b = buffer[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return true;
        }
        return false;
    }
}
