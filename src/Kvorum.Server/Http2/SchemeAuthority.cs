namespace Kvorum.Server.Http2;

/// <summary>
/// Repairs the <c>:authority</c> of an HTTP/2 HEADERS frame whose value is a URL rather than a host.
/// </summary>
/// <remarks>
/// etcdctl 3.4 dials an endpoint given as a URL (<c>--endpoints=http://127.0.0.1:2379</c>, or every member's
/// client URL with <c>--cluster</c>) with that URL as the authority for its per-endpoint Maintenance calls
/// (<c>endpoint status</c>, <c>endpoint hashkv</c>, <c>move-leader</c>, <c>defrag</c>). etcd's Go server ignores
/// the authority; Kestrel resets such a stream with PROTOCOL_ERROR ("Invalid Host header"). Kvorum does not use
/// the authority, so the repair replaces the value with <see cref="ReplacementBytes"/> ("kvorum").
/// <para>
/// The frame's header block is HPACK (RFC 7541). Only a literal field whose name is <c>:authority</c> (static
/// index 1, or a plain literal name) and whose value starts with <c>http://</c> or <c>https://</c> is rewritten;
/// every other byte of the block stays as it is. A literal with incremental indexing stays one, so the server's
/// dynamic table gains the entry at the position the client expects, and the client's later indexed references
/// to it resolve to the repaired value. The replacement is shorter than any such value, so the server's table
/// never evicts an entry that the client's still holds.
/// </para>
/// </remarks>
internal static class SchemeAuthority
{
    /// <summary>The value given instead: a valid host, shorter than any <c>http://</c> URL.</summary>
    private static ReadOnlySpan<byte> ReplacementBytes => "kvorum"u8;

    private const byte HeadersFrame = 0x1;
    private const byte EndHeaders = 0x4;
    private const byte Padded = 0x8;
    private const byte Priority = 0x20;
    private const int FrameHeaderLength = 9;

    // "http://" and "https://" as HPACK Huffman codes (RFC 7541 appendix B): h 100111, t 01001, p 101011,
    // s 01000, ':' 1011100, '/' 011000; 41 and 46 bits.
    private static readonly (ulong Bits, int Length) HuffmanHttp = Codes("100111" + "01001" + "01001" + "101011" + "1011100" + "011000" + "011000");
    private static readonly (ulong Bits, int Length) HuffmanHttps = Codes("100111" + "01001" + "01001" + "101011" + "01000" + "1011100" + "011000" + "011000");

    /// <summary>True for a HEADERS frame header (the first 9 bytes of a frame).</summary>
    public static bool IsHeadersFrame(ReadOnlySpan<byte> frameHeader) => frameHeader[3] == HeadersFrame;

    /// <summary>The payload length in a frame header.</summary>
    public static int PayloadLength(ReadOnlySpan<byte> frameHeader) => (frameHeader[0] << 16) | (frameHeader[1] << 8) | frameHeader[2];

    /// <summary>
    /// The frame with its <c>:authority</c> repaired, or null when it needs no repair: not a HEADERS frame, no such
    /// field, a header block continued in CONTINUATION frames, or anything it cannot parse (left to Kestrel).
    /// </summary>
    /// <param name="frame">One whole frame: the 9-byte header and the payload.</param>
    public static byte[]? Repair(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < FrameHeaderLength || frame[3] != HeadersFrame || (frame[4] & EndHeaders) == 0
            || PayloadLength(frame) != frame.Length - FrameHeaderLength)
        {
            return null;
        }
        var flags = frame[4];
        var payload = frame[FrameHeaderLength..];
        int blockStart = 0, padding = 0;
        if ((flags & Padded) != 0)
        {
            if (payload.Length < 1)
                return null;
            padding = payload[0];
            blockStart = 1;
        }
        if ((flags & Priority) != 0)
            blockStart += 5;
        var blockEnd = payload.Length - padding;
        if (blockEnd < blockStart)
            return null;
        if (!TryFind(payload[blockStart..blockEnd], out var start, out var end, out var kind))
            return null;

        // The field again, with the replacement as a plain (not Huffman) string: the representation's kind and
        // name index 1 (":authority" in the static table), then the length (fits in 7 bits) and the bytes.
        var replacement = ReplacementBytes;
        var fieldLength = 2 + replacement.Length;
        var newPayloadLength = payload.Length - (end - start) + fieldLength;
        var repaired = new byte[FrameHeaderLength + newPayloadLength];
        frame[..FrameHeaderLength].CopyTo(repaired);
        repaired[0] = (byte)(newPayloadLength >> 16);
        repaired[1] = (byte)(newPayloadLength >> 8);
        repaired[2] = (byte)newPayloadLength;
        var at = FrameHeaderLength;
        var fieldAt = blockStart + start;
        payload[..fieldAt].CopyTo(repaired.AsSpan(at));
        at += fieldAt;
        repaired[at++] = (byte)(kind | 1);
        repaired[at++] = (byte)replacement.Length;
        replacement.CopyTo(repaired.AsSpan(at));
        at += replacement.Length;
        payload[(blockStart + end)..].CopyTo(repaired.AsSpan(at));
        return repaired;
    }

    /// <summary>
    /// Finds the literal <c>:authority</c> field whose value is a URL in a header block: its byte range and its kind
    /// (0x40 with incremental indexing, 0x00 without, 0x10 never indexed).
    /// </summary>
    internal static bool TryFind(ReadOnlySpan<byte> block, out int start, out int end, out byte kind)
    {
        var pos = 0;
        while (pos < block.Length)
        {
            start = pos;
            var first = block[pos];
            int nameIndex;
            if ((first & 0x80) != 0)
            {
                // Indexed field: nothing literal to repair (an indexed ":authority" is the static empty one, or an
                // entry this connection's earlier blocks added, already repaired).
                if (!TryInteger(block, ref pos, 7, out _))
                    break;
                continue;
            }
            if ((first & 0xC0) == 0x40)
            {
                kind = 0x40;
                if (!TryInteger(block, ref pos, 6, out nameIndex))
                    break;
            }
            else if ((first & 0xE0) == 0x20)
            {
                // Dynamic table size update.
                if (!TryInteger(block, ref pos, 5, out _))
                    break;
                continue;
            }
            else
            {
                kind = (byte)(first & 0x10);
                if (!TryInteger(block, ref pos, 4, out nameIndex))
                    break;
            }

            var isAuthority = nameIndex == 1;
            if (nameIndex == 0)
            {
                if (!TryString(block, ref pos, out var nameHuffman, out var name))
                    break;
                isAuthority = !nameHuffman && name.SequenceEqual(":authority"u8);
            }
            if (!TryString(block, ref pos, out var valueHuffman, out var value))
                break;
            if (isAuthority && (valueHuffman ? StartsWithBits(value, HuffmanHttp) || StartsWithBits(value, HuffmanHttps)
                                             : value.StartsWith("http://"u8) || value.StartsWith("https://"u8)))
            {
                end = pos;
                return true;
            }
        }
        start = end = 0;
        kind = 0;
        return false;
    }

    /// <summary>An HPACK integer with an N-bit prefix (RFC 7541 §5.1); false when the block ends first or it overflows.</summary>
    private static bool TryInteger(ReadOnlySpan<byte> block, ref int pos, int prefixBits, out int value)
    {
        var mask = (1 << prefixBits) - 1;
        value = block[pos++] & mask;
        if (value < mask)
            return true;
        for (var shift = 0; shift <= 21; shift += 7)
        {
            if (pos >= block.Length)
                return false;
            var next = block[pos++];
            value += (next & 0x7F) << shift;
            if ((next & 0x80) == 0)
                return true;
        }
        return false;
    }

    /// <summary>An HPACK string literal (RFC 7541 §5.2): its Huffman flag and its bytes as sent.</summary>
    private static bool TryString(ReadOnlySpan<byte> block, ref int pos, out bool huffman, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        huffman = false;
        if (pos >= block.Length)
            return false;
        huffman = (block[pos] & 0x80) != 0;
        if (!TryInteger(block, ref pos, 7, out var length) || length > block.Length - pos)
            return false;
        bytes = block.Slice(pos, length);
        pos += length;
        return true;
    }

    private static bool StartsWithBits(ReadOnlySpan<byte> data, (ulong Bits, int Length) prefix)
    {
        if (data.Length * 8 < prefix.Length)
            return false;
        ulong head = 0;
        for (var i = 0; i < 8; i++)
            head = (head << 8) | (i < data.Length ? data[i] : 0u);
        return head >> (64 - prefix.Length) == prefix.Bits;
    }

    private static (ulong Bits, int Length) Codes(string bits) => (Convert.ToUInt64(bits, 2), bits.Length);
}
