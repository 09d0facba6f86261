using System.Text.Json;
using Google.Protobuf;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Tests;

public class OutputWriterTests
{
    private static RangeResponse TwoKeys()
    {
        var response = new RangeResponse { Header = new ResponseHeader { Revision = 9 }, Count = 2 };
        response.Kvs.Add(new KeyValue { Key = ByteString.CopyFromUtf8("a"), Value = ByteString.CopyFromUtf8("1"), CreateRevision = 2, ModRevision = 3, Version = 2 });
        response.Kvs.Add(new KeyValue { Key = ByteString.CopyFromUtf8("b"), Value = ByteString.CopyFromUtf8("two"), CreateRevision = 4, ModRevision = 4, Version = 1 });
        return response;
    }

    private static string Write(OutputFormat format, Action<OutputWriter> write)
    {
        var text = new StringWriter();
        write(new OutputWriter(text, format));
        return text.ToString();
    }

    [Fact]
    public void Simple_get_prints_key_line_then_value_line()
    {
        Assert.Equal("a\n1\nb\ntwo\n", Write(OutputFormat.Simple, w => w.Range(TwoKeys())));
        // As etcdctl: with --keys-only each key is followed by its (empty) value line; --print-value-only prints values only.
        var keysOnly = TwoKeys();
        foreach (var kv in keysOnly.Kvs)
            kv.Value = Google.Protobuf.ByteString.Empty;
        Assert.Equal("a\n\nb\n\n", Write(OutputFormat.Simple, w => w.Range(keysOnly, keysOnly: true)));
        Assert.Equal("1\ntwo\n", Write(OutputFormat.Simple, w => w.Range(TwoKeys(), valuesOnly: true)));
        Assert.Equal("2\n", Write(OutputFormat.Simple, w => w.Range(TwoKeys(), countOnly: true)));
    }

    [Fact]
    public void Json_get_is_the_response_with_base64_bytes()
    {
        var text = Write(OutputFormat.Json, w => w.Range(TwoKeys()));
        using var json = JsonDocument.Parse(text);

        // etcdctl's JSON (Go's encoding/json): one line, numbers as numbers, zero values left out.
        Assert.DoesNotContain(" ", text.TrimEnd('\n'), StringComparison.Ordinal);
        Assert.Equal(9, json.RootElement.GetProperty("header").GetProperty("revision").GetInt64());
        Assert.False(json.RootElement.TryGetProperty("more", out _));
        var first = json.RootElement.GetProperty("kvs")[0];
        Assert.Equal("YQ==", first.GetProperty("key").GetString());
        Assert.Equal(2, first.GetProperty("create_revision").GetInt64());
    }

    [Fact]
    public void Table_get_has_a_header_and_one_row_per_key()
    {
        var table = Write(OutputFormat.Table, w => w.Range(TwoKeys()));

        Assert.Equal(
            """
            +-----+-------+-----------------+--------------+---------+
            | KEY | VALUE | CREATE REVISION | MOD REVISION | VERSION |
            +-----+-------+-----------------+--------------+---------+
            |   a |     1 |               2 |            3 |       2 |
            |   b |   two |               4 |            4 |       1 |
            +-----+-------+-----------------+--------------+---------+

            """.ReplaceLineEndings("\n"),
            table);
    }

    [Fact]
    public void Put_delete_and_txn_print_like_etcdctl()
    {
        var put = new PutResponse { PrevKv = new KeyValue { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("old") } };
        Assert.Equal("OK\nk\nold\n", Write(OutputFormat.Simple, w => w.Put(put)));
        Assert.Equal("OK\n", Write(OutputFormat.Simple, w => w.Put(new PutResponse())));
        Assert.Equal("3\n", Write(OutputFormat.Simple, w => w.Delete(new DeleteRangeResponse { Deleted = 3 })));

        var txn = new TxnResponse { Succeeded = true };
        txn.Responses.Add(new ResponseOp { ResponsePut = new PutResponse() });
        txn.Responses.Add(new ResponseOp { ResponseRange = TwoKeys() });
        txn.Responses.Add(new ResponseOp { ResponseDeleteRange = new DeleteRangeResponse { Deleted = 1 } });
        Assert.Equal("SUCCESS\n\nOK\n\na\n1\nb\ntwo\n\n1\n", Write(OutputFormat.Simple, w => w.Txn(txn)));
        Assert.Equal("FAILURE\n", Write(OutputFormat.Simple, w => w.Txn(new TxnResponse())));
    }

    private static EndpointStatus Status(string endpoint, ulong member, ulong leader) => new(endpoint, new StatusResponse
    {
        Header = new ResponseHeader { MemberId = member },
        Version = "3.6.0",
        DbSize = 24_576,
        Leader = leader,
        RaftTerm = 3,
        RaftIndex = 12,
        RaftAppliedIndex = 11,
    });

    [Fact]
    public void Status_table_shows_member_id_in_hex_and_who_leads()
    {
        var table = Write(OutputFormat.Table, w => w.Status([Status("127.0.0.1:2379", 0x8e9e05c52164694d, 0x8e9e05c52164694d), Status("127.0.0.1:22379", 0xabc, 0x8e9e05c52164694d)]));

        var lines = table.Split('\n');
        Assert.Equal("|    ENDPOINT     |        ID        | VERSION | DB SIZE | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX | ERRORS |", lines[1]);
        // etcdctl aligns cells right.
        Assert.Equal("|  127.0.0.1:2379 | 8e9e05c52164694d |   3.6.0 |   25 kB |      true |      false |         3 |         12 |                 11 |        |", lines[3]);
        Assert.Equal("| 127.0.0.1:22379 |              abc |   3.6.0 |   25 kB |     false |      false |         3 |         12 |                 11 |        |", lines[4]);
    }

    [Fact]
    public void Status_simple_and_json()
    {
        var status = Status("127.0.0.1:2379", 0x1f, 0x1f);

        Assert.Equal("127.0.0.1:2379, 1f, 3.6.0, 25 kB, true, false, 3, 12, 11, \n", Write(OutputFormat.Simple, w => w.Status([status])));
        using var json = JsonDocument.Parse(Write(OutputFormat.Json, w => w.Status([status])));
        Assert.Equal("127.0.0.1:2379", json.RootElement[0].GetProperty("Endpoint").GetString());
        Assert.Equal("3.6.0", json.RootElement[0].GetProperty("Status").GetProperty("version").GetString());
    }

    [Fact]
    public void Member_list_simple_marks_unstarted_members()
    {
        var members = new MemberListResponse();
        members.Members.Add(new Member { ID = 0x1a, Name = "infra1", PeerURLs = { "http://127.0.0.1:2380" }, ClientURLs = { "http://127.0.0.1:2379" } });
        members.Members.Add(new Member { ID = 0x2b, PeerURLs = { "http://127.0.0.1:22380" }, IsLearner = true });

        Assert.Equal(
            "1a, started, infra1, http://127.0.0.1:2380, http://127.0.0.1:2379, false\n2b, unstarted, , http://127.0.0.1:22380, , true\n",
            Write(OutputFormat.Simple, w => w.Members(members)));
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(999, "999 B")]
    [InlineData(24_576, "25 kB")]
    [InlineData(1_234_567, "1.2 MB")]
    [InlineData(9, "9 B")]
    [InlineData(1_268, "1.3 kB")]
    [InlineData(4_000_000, "4.0 MB")]
    [InlineData(9_950, "10 kB")]
    [InlineData(67_108_864, "67 MB")]
    [InlineData(2_147_483_648, "2.1 GB")]
    public void Byte_sizes_are_si(long bytes, string text) => Assert.Equal(text, ByteSize.Format(bytes));
}
