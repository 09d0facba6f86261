using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>A member publishing its name and client URLs through the log until its member table holds them (<see cref="OwnAttributes"/>).</summary>
public sealed class OwnAttributesTests
{
    private const ulong Self = 7;
    private static readonly Uri[] ClientUrls = [new("http://10.0.0.7:2379/"), new("http://127.0.0.1:2379")];

    private static MemberTable TableWith(Member? self)
    {
        var table = new MemberTable();
        if (self is not null)
            table.Apply(new ConfChange(ConfChangeType.AddVoter, Self, self.ToByteArray()));
        return table;
    }

    [Fact]
    public void A_member_not_in_its_table_yet_has_nothing_to_publish()
    {
        var attributes = new OwnAttributes(Self, "m7", ClientUrls);
        Assert.False(attributes.IsDue(TableWith(null), now: 1_000_000));
    }

    [Fact]
    public void Until_the_table_holds_them_they_are_published_again_a_second_after_the_last_attempt()
    {
        var attributes = new OwnAttributes(Self, "m7", ClientUrls);
        var table = TableWith(new Member());
        Assert.True(attributes.IsDue(table, now: 50_000));

        var request = attributes.Publish(id: 99, now: 50_000);
        Assert.Equal(99UL, request.Id);
        Assert.Equal(Self, request.Attributes.Id);
        Assert.Equal("m7", request.Attributes.Name);
        Assert.Equal(["http://10.0.0.7:2379", "http://127.0.0.1:2379"], request.Attributes.ClientUrls);

        Assert.False(attributes.IsDue(table, now: 50_999));
        Assert.True(attributes.IsDue(table, now: 51_000));
        table.Apply(request.Attributes);
        Assert.False(attributes.IsDue(table, now: 60_000));
    }

    [Fact]
    public void A_table_with_another_name_or_another_number_of_client_urls_is_published_to()
    {
        var attributes = new OwnAttributes(Self, "m7", ClientUrls);
        var renamed = new Member { Name = "old" };
        renamed.ClientURLs.AddRange(["http://a:2379", "http://b:2379"]);
        Assert.True(attributes.IsDue(TableWith(renamed), 0));
        var fewer = new Member { Name = "m7" };
        fewer.ClientURLs.Add("http://a:2379");
        Assert.True(attributes.IsDue(TableWith(fewer), 0));
    }

    [Fact]
    public void Only_the_loop_thread_publishes() =>
        LoopThread.AssertOnlyTheLoopMay(owner => new OwnAttributes(Self, "m7", ClientUrls, owner).Publish(1, 0));
}
