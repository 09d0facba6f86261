using Kvorum.Lab;
using Kvorum.Lab.Faults;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab.Tests.Lab;

public class FaultTests
{
    private static FaultSet Set(params Fault[] faults) => new([.. faults]);

    [Fact]
    public void A_partition_blocks_exactly_the_links_between_groups()
    {
        var set = Set(Fault.Partition([[1, 2], [3, 4, 5]]));
        Assert.False(set.Blocks(1, 2));
        Assert.False(set.Blocks(3, 5));
        Assert.True(set.Blocks(1, 3));
        Assert.True(set.Blocks(5, 2));
    }

    [Fact]
    public void Nodes_a_partition_does_not_list_form_one_more_group()
    {
        var set = Set(Fault.Partition([[1], [2]]));
        Assert.True(set.Blocks(1, 2));
        Assert.True(set.Blocks(1, 3));
        Assert.False(set.Blocks(3, 4));
    }

    [Fact]
    public void Isolation_blocks_every_link_of_the_node_and_no_other()
    {
        var set = Set(Fault.Isolate(2));
        foreach (var other in new[] { 1, 3, 4, 5 })
        {
            Assert.True(set.Blocks(2, other));
            Assert.True(set.Blocks(other, 2));
        }

        Assert.False(set.Blocks(1, 3));
    }

    [Fact]
    public void A_one_way_cut_blocks_one_direction_and_a_cut_both()
    {
        var oneWay = Set(Fault.Cut(1, 2, oneWay: true));
        Assert.True(oneWay.Blocks(1, 2));
        Assert.False(oneWay.Blocks(2, 1));
        var both = Set(Fault.Cut(1, 2, oneWay: false));
        Assert.True(both.Blocks(1, 2));
        Assert.True(both.Blocks(2, 1));
        Assert.False(both.Blocks(1, 3));
    }

    [Fact]
    public void Loss_and_rate_are_per_node()
    {
        var set = Set(Fault.Loss(3, 20), Fault.Loss(3, 40), Fault.Slow(4, "1mbit"));
        Assert.Equal(40, set.LossPercent(3));
        Assert.Equal(0, set.LossPercent(1));
        Assert.Equal("1mbit", set.Rate(4));
        Assert.Null(set.Rate(3));
    }

    [Theory]
    [InlineData("no node 6: the lab has nodes 1..5")]
    public void Faults_naming_unknown_nodes_are_refused(string message)
    {
        Assert.Equal(message, Assert.Throws<LabException>(() => FaultSet.Validate(Fault.Isolate(6), 5)).Message);
        Assert.Equal(message, Assert.Throws<LabException>(() => FaultSet.Validate(Fault.Partition([[1, 2], [6]]), 5)).Message);
    }

    [Fact]
    public void Malformed_faults_are_refused()
    {
        Assert.Contains("two different nodes", Assert.Throws<LabException>(() => FaultSet.Validate(Fault.Cut(2, 2, true), 5)).Message, StringComparison.Ordinal);
        Assert.Contains("between 1 and 100", Assert.Throws<LabException>(() => FaultSet.Validate(Fault.Loss(2, 0), 5)).Message, StringComparison.Ordinal);
        Assert.Contains("appears in two groups", Assert.Throws<LabException>(() => FaultSet.Validate(Fault.Partition([[1, 2], [2, 3]]), 5)).Message, StringComparison.Ordinal);
        Assert.Contains("tc rate", Assert.Throws<LabException>(() => FaultSet.Validate(Fault.Slow(2, "1mbit; rm -rf /"), 5)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1,2|/|3,4,5")]
    [InlineData("1,2/3,4,5")]
    [InlineData("1,2|/3,4,5")]
    public void Partition_groups_parse_with_or_without_spaces(string argv)
    {
        Assert.Equal([[1, 2], [3, 4, 5]], FaultParser.Groups(argv.Split('|')));
    }

    [Fact]
    public void Partition_groups_need_a_slash_and_numbers()
    {
        Assert.Contains("separated by '/'", Assert.Throws<LabException>(() => FaultParser.Groups(["1,2", "3"])).Message, StringComparison.Ordinal);
        Assert.Contains("'x' is not a node number", Assert.Throws<LabException>(() => FaultParser.Groups(["1,x/3"])).Message, StringComparison.Ordinal);
        Assert.Contains("an empty group", Assert.Throws<LabException>(() => FaultParser.Groups(["1,2/"])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_firewall_script_drops_both_ways_for_a_partition_and_only_originals_for_a_one_way_cut()
    {
        var layout = LabLayout.Create("kvorum", "10.77.0.0/24", 3, "/tmp/x");
        var set = new FaultSet([Fault.Partition([[1], [2, 3]]) with { Id = 1 }, Fault.Cut(2, 3, oneWay: true) with { Id = 2 }, Fault.Loss(2, 25) with { Id = 3 }]);

        var node1 = FirewallScript.Render(layout, set, 1);
        Assert.Contains("ip daddr 10.77.0.2 drop", node1, StringComparison.Ordinal);
        Assert.Contains("ip saddr 10.77.0.3 drop", node1, StringComparison.Ordinal);
        Assert.DoesNotContain("numgen", node1, StringComparison.Ordinal);

        var node2 = FirewallScript.Render(layout, set, 2);
        Assert.Contains("ip daddr 10.77.0.3 ct direction original drop", node2, StringComparison.Ordinal);
        Assert.Contains("ip saddr 10.77.0.3 ct direction reply drop", node2, StringComparison.Ordinal);
        Assert.Contains("oifname \"eth0\" numgen random mod 100 < 25 drop", node2, StringComparison.Ordinal);

        var total = FirewallScript.Render(layout, new FaultSet([Fault.Loss(1, 100)]), 1);
        Assert.Contains("oifname \"eth0\" drop", total, StringComparison.Ordinal);
        Assert.DoesNotContain("numgen", total, StringComparison.Ordinal);

        // The receiving side of a one-way cut has no rule for it: the sender's namespace holds it.
        var node3 = FirewallScript.Render(layout, set, 3);
        Assert.DoesNotContain("10.77.0.2", node3, StringComparison.Ordinal);

        // Connection tracking is on from the start, so one-way cuts know who opened each connection.
        Assert.Contains("ct state new,established,related counter", FirewallScript.Render(layout, new FaultSet([]), 1), StringComparison.Ordinal);

        // The script replaces the table as one transaction.
        Assert.StartsWith("table inet kvorum_lab\ndelete table inet kvorum_lab\ntable inet kvorum_lab {", node1, StringComparison.Ordinal);
    }

    [Fact]
    public void Faults_describe_themselves_in_the_commands_words()
    {
        Assert.Equal("partition 1,2 / 3,4,5", Fault.Partition([[1, 2], [3, 4, 5]]).ToString());
        Assert.Equal("cut 1->2 (one-way)", Fault.Cut(1, 2, true).ToString());
        Assert.Equal("cut 1<->2", Fault.Cut(1, 2, false).ToString());
        Assert.Equal("loss 3 30%", Fault.Loss(3, 30).ToString());
        Assert.Equal("slow 2 1mbit", Fault.Slow(2, "1mbit").ToString());
    }
}
