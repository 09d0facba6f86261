using System.Text;
using Kvorum.Server.Http2;

namespace Kvorum.Server.Tests.Http2;

public sealed class SchemeAuthorityTests
{
    /// <summary>
    /// The first HEADERS frame of <c>etcdctl --endpoints=http://127.0.0.1:2399 endpoint status</c> (etcdctl 3.4.23,
    /// captured on loopback): POST, http, a Huffman :path with incremental indexing, then at offset 27 of the block
    /// <c>41 8f ...</c>, the :authority "http://127.0.0.1:2399" as a 15-byte Huffman literal with incremental indexing.
    /// </summary>
    internal const string EtcdctlHeadersPayload =
        "8386459760a924882d9dcb6571afa066a925a87510ac6e48d36a3f418f9d29aee30c044eae05c0b86e0997df5f8b1d75d0620d263d4c4d65647a8b9acac8b4c7602bb2caecff40027465864d833505b11f40899acac8b24d494f6a7f8613efbcd3ed5b408d25062d495875996ee5b1063d5f03332e34";

    internal static byte[] Frame(byte flags, byte[] payload) =>
        [(byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, 0x1, flags, 0, 0, 0, 1, .. payload];

    [Fact]
    public void Etcdctls_url_authority_is_replaced_and_the_rest_of_the_frame_kept()
    {
        var payload = Convert.FromHexString(EtcdctlHeadersPayload);
        var repaired = SchemeAuthority.Repair(Frame(0x4, payload))!;

        Assert.NotNull(repaired);
        byte[] field = [0x41, 6, .. "kvorum"u8];
        byte[] expectedPayload = [.. payload[..27], .. field, .. payload[(27 + 2 + 15)..]];
        Assert.Equal(Frame(0x4, expectedPayload), repaired);
    }

    [Theory]
    [InlineData("http://10.0.0.1:2379", 0x40)]
    [InlineData("https://example:2379", 0x00)]
    [InlineData("http://x", 0x10)]
    public void A_plain_literal_url_authority_is_replaced_keeping_its_kind(string authority, byte kind)
    {
        // :method POST (indexed), then :authority (static name 1) as a raw literal of the given kind, then te: trailers.
        var value = Encoding.ASCII.GetBytes(authority);
        byte[] te = [0x00, 2, .. "te"u8, 8, .. "trailers"u8];
        byte[] payload = [0x83, (byte)(kind | 1), (byte)value.Length, .. value, .. te];

        var repaired = SchemeAuthority.Repair(Frame(0x4, payload))!;

        Assert.Equal(Frame(0x4, [0x83, (byte)(kind | 1), 6, .. "kvorum"u8, .. te]), repaired);
    }

    [Fact]
    public void Padding_and_priority_are_kept_and_a_literal_authority_name_is_recognised()
    {
        byte[] name = [0x0A, .. ":authority"u8];
        byte[] value = [0x0F, .. "http://h:1/path"u8];
        byte[] block = [0x40, .. name, .. value, 0x86];
        byte[] priority = [0, 0, 0, 3, 15];
        byte[] payload = [2, .. priority, .. block, 0, 0];

        var repaired = SchemeAuthority.Repair(Frame(0x4 | 0x8 | 0x20, payload))!;

        byte[] expectedBlock = [0x41, 6, .. "kvorum"u8, 0x86];
        Assert.Equal(Frame(0x4 | 0x8 | 0x20, [2, .. priority, .. expectedBlock, 0, 0]), repaired);
    }

    [Fact]
    public void A_huffman_https_authority_is_replaced_after_long_integers_and_a_table_size_update()
    {
        // A table size update (4096: 3f e1 1f), a user-agent literal without indexing whose name index needs two
        // bytes (58: 0f 2b) and whose value is 200 bytes (7f 49), then :authority "https://" in Huffman code.
        byte[] userAgent = [0x0F, 0x2B, 0x7F, 0x49, .. Enumerable.Repeat((byte)'a', 200)];
        byte[] prefix = [0x3F, 0xE1, 0x1F, .. userAgent];
        byte[] payload = [.. prefix, 0x41, 0x86, 0x9d, 0x29, 0xad, 0x17, 0x18, 0x63, 0x83];

        var repaired = SchemeAuthority.Repair(Frame(0x4, payload))!;

        Assert.Equal(Frame(0x4, [.. prefix, 0x41, 6, .. "kvorum"u8, 0x83]), repaired);
    }

    [Theory]
    [InlineData("4183a2e6f5", 0x4)] // a host:port-like Huffman value that does not start with http://
    [InlineData("410e3132372e302e302e313a32333739", 0x4)] // raw "127.0.0.1:2379"
    [InlineData("81", 0x4)] // the static, empty :authority, indexed
    [InlineData("418f9d29aee30c044eae05c0b86e0997df", 0x0)] // the URL, but the block goes on in a CONTINUATION frame
    [InlineData("418f9d29aee3", 0x4)] // a literal cut short
    public void Frames_without_a_url_authority_or_that_cannot_be_parsed_are_left_alone(string payloadHex, byte flags)
    {
        Assert.Null(SchemeAuthority.Repair(Frame(flags, Convert.FromHexString(payloadHex))));
    }

    [Fact]
    public void A_frame_that_is_not_headers_is_left_alone()
    {
        byte[] data = [0, 0, 5, 0x0, 0x1, 0, 0, 0, 1, 0, 0, 0, 0, 0];
        Assert.Null(SchemeAuthority.Repair(data));
    }
}
