using Google.Protobuf;
using Google.Protobuf.Reflection;
using Ours = Kvorum.Etcd.Api;

namespace Kvorum.Server.Tests.Protos;

/// <summary>
/// Kvorum's own .proto files against the etcd messages that the dotnet-etcd client package ships:
/// the same bytes must mean the same thing on both sides.
/// </summary>
public class WireCompatibilityTests
{
    [Fact]
    public void Our_put_request_parses_as_etcds()
    {
        var ours = new Ours.PutRequest
        {
            Key = ByteString.CopyFromUtf8("key"),
            Value = ByteString.CopyFromUtf8("value"),
            Lease = 0x1234_5678_9abc,
            PrevKv = true,
            IgnoreValue = true,
            IgnoreLease = true,
        };

        var theirs = Etcdserverpb.PutRequest.Parser.ParseFrom(ours.ToByteArray());

        Assert.Equal("key", theirs.Key.ToStringUtf8());
        Assert.Equal("value", theirs.Value.ToStringUtf8());
        Assert.Equal(0x1234_5678_9abc, theirs.Lease);
        Assert.True(theirs.PrevKv);
        Assert.True(theirs.IgnoreValue);
        Assert.True(theirs.IgnoreLease);
        Assert.Equal(ours.ToByteArray(), theirs.ToByteArray());
    }

    [Fact]
    public void Etcds_range_response_parses_as_ours()
    {
        var theirs = new Etcdserverpb.RangeResponse
        {
            Header = new Etcdserverpb.ResponseHeader { ClusterId = 11, MemberId = 22, Revision = 33, RaftTerm = 44 },
            More = true,
            Count = 7,
            Kvs =
            {
                new Mvccpb.KeyValue
                {
                    Key = ByteString.CopyFromUtf8("a"),
                    CreateRevision = 2,
                    ModRevision = 5,
                    Version = 3,
                    Value = ByteString.CopyFromUtf8("v"),
                    Lease = 9,
                },
                new Mvccpb.KeyValue { Key = ByteString.CopyFromUtf8("b"), CreateRevision = 6, ModRevision = 6, Version = 1 },
            },
        };

        var ours = Ours.RangeResponse.Parser.ParseFrom(theirs.ToByteArray());

        Assert.Equal((11UL, 22UL, 33L, 44UL), (ours.Header.ClusterId, ours.Header.MemberId, ours.Header.Revision, ours.Header.RaftTerm));
        Assert.True(ours.More);
        Assert.Equal(7, ours.Count);
        Assert.Equal(2, ours.Kvs.Count);
        var first = ours.Kvs[0];
        Assert.Equal(("a", 2L, 5L, 3L, "v", 9L),
            (first.Key.ToStringUtf8(), first.CreateRevision, first.ModRevision, first.Version, first.Value.ToStringUtf8(), first.Lease));
        Assert.Equal(theirs.ToByteArray(), ours.ToByteArray());
    }

    [Fact]
    public void A_nested_txn_round_trips_both_ways()
    {
        var ours = new Ours.TxnRequest
        {
            Compare =
            {
                new Ours.Compare
                {
                    Key = ByteString.CopyFromUtf8("k"),
                    RangeEnd = ByteString.CopyFromUtf8("l"),
                    Target = Ours.Compare.Types.CompareTarget.Lease,
                    Result = Ours.Compare.Types.CompareResult.NotEqual,
                    Lease = 5,
                },
            },
            Success =
            {
                new Ours.RequestOp { RequestPut = new Ours.PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") } },
                new Ours.RequestOp
                {
                    RequestTxn = new Ours.TxnRequest
                    {
                        Failure = { new Ours.RequestOp { RequestDeleteRange = new Ours.DeleteRangeRequest { Key = ByteString.CopyFromUtf8("x"), PrevKv = true } } },
                    },
                },
            },
            Failure =
            {
                new Ours.RequestOp
                {
                    RequestRange = new Ours.RangeRequest
                    {
                        Key = ByteString.CopyFromUtf8("a"),
                        SortOrder = Ours.RangeRequest.Types.SortOrder.Descend,
                        SortTarget = Ours.RangeRequest.Types.SortTarget.Value,
                        MaxCreateRevision = 12,
                    },
                },
            },
        };

        var theirs = Etcdserverpb.TxnRequest.Parser.ParseFrom(ours.ToByteArray());

        Assert.Equal(Etcdserverpb.Compare.Types.CompareTarget.Lease, theirs.Compare[0].Target);
        Assert.Equal(Etcdserverpb.Compare.Types.CompareResult.NotEqual, theirs.Compare[0].Result);
        Assert.Equal(5, theirs.Compare[0].Lease);
        Assert.Equal("l", theirs.Compare[0].RangeEnd.ToStringUtf8());
        Assert.True(theirs.Success[1].RequestTxn.Failure[0].RequestDeleteRange.PrevKv);
        Assert.Equal(Etcdserverpb.RangeRequest.Types.SortTarget.Value, theirs.Failure[0].RequestRange.SortTarget);
        Assert.Equal(12, theirs.Failure[0].RequestRange.MaxCreateRevision);
        Assert.Equal(ours, Ours.TxnRequest.Parser.ParseFrom(theirs.ToByteArray()));
    }

    public static TheoryData<string> OurMessages()
    {
        var names = new TheoryData<string>();
        foreach (var message in OurFiles().SelectMany(AllMessages))
            names.Add(message.FullName);
        return names;
    }

    [Theory]
    [MemberData(nameof(OurMessages))]
    public void Every_message_has_etcds_fields(string fullName)
    {
        var ours = FindMessage(OurFiles(), fullName)!;
        var theirs = FindMessage(TheirFiles(), fullName);
        Assert.NotNull(theirs);

        Assert.Equal(Describe(theirs.Fields.InFieldNumberOrder()), Describe(ours.Fields.InFieldNumberOrder()));
        Assert.Equal(
            theirs.EnumTypes.Select(DescribeEnum).OrderBy(text => text, StringComparer.Ordinal),
            ours.EnumTypes.Select(DescribeEnum).OrderBy(text => text, StringComparer.Ordinal));
    }

    [Fact]
    public void Every_service_has_etcds_methods()
    {
        var ours = Ours.RpcReflection.Descriptor;
        var theirs = Etcdserverpb.RpcReflection.Descriptor;
        Assert.Equal(theirs.Services.Select(s => s.FullName), ours.Services.Select(s => s.FullName));

        foreach (var service in ours.Services)
        {
            var match = theirs.Services.SingleOrDefault(s => s.FullName == service.FullName);
            Assert.NotNull(match);
            Assert.Equal(DescribeMethods(match), DescribeMethods(service));
        }
    }

    [Fact]
    public void Every_etcd_message_is_described()
    {
        string[] ours = [.. OurFiles().SelectMany(AllMessages).Select(m => m.FullName).Order(StringComparer.Ordinal)];
        string[] theirs = [.. TheirFiles().SelectMany(AllMessages).Select(m => m.FullName).Order(StringComparer.Ordinal)];
        Assert.Equal(theirs, ours);
    }

    [Fact]
    public void Top_level_enums_match()
    {
        Assert.Equal(
            Etcdserverpb.RpcReflection.Descriptor.EnumTypes.Select(DescribeEnum),
            Ours.RpcReflection.Descriptor.EnumTypes.Select(DescribeEnum));
    }

    private static IEnumerable<FileDescriptor> OurFiles() =>
        [Ours.RpcReflection.Descriptor, Ours.KvReflection.Descriptor, Ours.AuthReflection.Descriptor];

    private static IEnumerable<FileDescriptor> TheirFiles() =>
        [Etcdserverpb.RpcReflection.Descriptor, Mvccpb.KvReflection.Descriptor, Authpb.AuthReflection.Descriptor];

    private static MessageDescriptor? FindMessage(IEnumerable<FileDescriptor> files, string fullName) =>
        files.SelectMany(AllMessages).SingleOrDefault(m => m.FullName == fullName);

    private static IEnumerable<MessageDescriptor> AllMessages(FileDescriptor file) => file.MessageTypes.SelectMany(Flatten);

    private static IEnumerable<MessageDescriptor> Flatten(MessageDescriptor message) =>
        new[] { message }.Concat(message.NestedTypes.SelectMany(Flatten));

    private static string[] Describe(IEnumerable<FieldDescriptor> fields) =>
        [.. fields.Select(f =>
            $"{f.FieldNumber} {f.Name} {f.FieldType} repeated={f.IsRepeated} oneof={f.RealContainingOneof?.Name} " +
            $"type={(f.FieldType == FieldType.Message ? f.MessageType.FullName : f.FieldType == FieldType.Enum ? f.EnumType.FullName : "")}")];

    private static string DescribeEnum(EnumDescriptor descriptor) =>
        descriptor.FullName + ": " + string.Join(", ", descriptor.Values.Select(v => $"{v.Name}={v.Number}"));

    private static string[] DescribeMethods(ServiceDescriptor service) =>
        [.. service.Methods.Select(m =>
            $"{m.Name}({(m.IsClientStreaming ? "stream " : "")}{m.InputType.FullName}) " +
            $"-> {(m.IsServerStreaming ? "stream " : "")}{m.OutputType.FullName}")];
}
