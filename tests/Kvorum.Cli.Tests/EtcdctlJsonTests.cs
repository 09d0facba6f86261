using Google.Protobuf;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Tests;

/// <summary>etcdctl's <c>-w json</c>, which is Go's encoding/json over etcd's Go structs (texts as etcdctl 3.4 prints them).</summary>
public class EtcdctlJsonTests
{
    [Fact]
    public void Zero_values_are_left_out_and_numbers_are_numbers()
    {
        var response = new PutResponse { Header = new ResponseHeader { ClusterId = 12101053776118486841, MemberId = 1, Revision = 9, RaftTerm = 2 } };
        Assert.Equal("{\"header\":{\"cluster_id\":12101053776118486841,\"member_id\":1,\"revision\":9,\"raft_term\":2}}", EtcdctlJson.Format(response));
        Assert.Equal("{}", EtcdctlJson.Format(new AlarmResponse()));
    }

    [Fact]
    public void A_oneof_is_an_object_named_in_Gos_camel_case()
    {
        var response = new TxnResponse { Header = new ResponseHeader { Revision = 12 } };
        response.Responses.Add(new ResponseOp { ResponsePut = new PutResponse { Header = new ResponseHeader { Revision = 12 } } });
        response.Responses.Add(new ResponseOp { ResponseDeleteRange = new DeleteRangeResponse { Deleted = 1 } });
        Assert.Equal(
            "{\"header\":{\"revision\":12},\"responses\":[{\"Response\":{\"ResponsePut\":{\"header\":{\"revision\":12}}}},{\"Response\":{\"ResponseDeleteRange\":{\"deleted\":1}}}]}",
            EtcdctlJson.Format(response));
    }

    [Fact]
    public void Bytes_are_base64_and_strings_escaped_as_Go_does()
    {
        var kv = new Kvorum.Etcd.Api.KeyValue { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("<v>"), Version = 1 };
        Assert.Equal("{\"key\":\"aw==\",\"version\":1,\"value\":\"PHY+\"}", EtcdctlJson.Format(kv));
        var member = new Member { ID = 10, Name = "a<b>&\"c\"\n\u00e9" };
        member.PeerURLs.Add("http://127.0.0.1:2380");
        Assert.Equal("{\"ID\":10,\"name\":\"a\\u003cb\\u003e\\u0026\\\"c\\\"\\n\u00e9\",\"peerURLs\":[\"http://127.0.0.1:2380\"]}", EtcdctlJson.Format(member));
    }

    [Fact]
    public void Enums_are_numbers()
    {
        var alarms = new AlarmResponse();
        alarms.Alarms.Add(new AlarmMember { MemberID = 7, Alarm = AlarmType.Nospace });
        Assert.Equal("{\"alarms\":[{\"memberID\":7,\"alarm\":1}]}", EtcdctlJson.Format(alarms));
    }
}
