using Kvorum.Lab;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab.Tests.Lab;

public class LabLayoutTests
{
    [Fact]
    public void Names_and_addresses_follow_the_prefix_and_subnet()
    {
        var layout = LabLayout.Create("kvorum", "10.77.0.0/24", 5, "/tmp/x");
        Assert.Equal("kvorum-br", layout.Bridge);
        Assert.Equal("10.77.0.254", layout.HostAddress.ToString());
        Assert.Equal(["kvorum-n1", "kvorum-n2", "kvorum-n3", "kvorum-n4", "kvorum-n5"], layout.Nodes.Select(n => n.Namespace));
        Assert.Equal("10.77.0.3", layout.Node(3).Address.ToString());
        Assert.Equal("kvorum-v3", layout.Node(3).HostVeth);
        Assert.Equal(new Uri("http://10.77.0.3:2379"), layout.Node(3).ClientUrl);
        Assert.Equal(new Uri("http://10.77.0.3:2380"), layout.Node(3).PeerUrl);
        Assert.Equal("/tmp/x/n3", layout.Node(3).DataDir);
    }

    [Fact]
    public void The_host_takes_the_last_usable_address_of_a_small_subnet()
    {
        var layout = LabLayout.Create("t", "192.168.50.0/28", 3, "/tmp/x");
        Assert.Equal("192.168.50.14", layout.HostAddress.ToString());
    }

    [Theory]
    [InlineData("kvorum", "10.77.0.0/24", 0, "--nodes must be between 1 and 9")]
    [InlineData("kvorum", "10.77.0.0/24", 10, "--nodes must be between 1 and 9")]
    [InlineData("kvorum", "10.77.0.1/24", 3, "host bits set; did you mean 10.77.0.0/24")]
    [InlineData("kvorum", "10.77.0.0", 3, "--subnet must be an IPv4 network")]
    [InlineData("kvorum", "fd00::/64", 3, "--subnet must be an IPv4 network")]
    [InlineData("kvorum", "10.77.0.0/29", 7, "has 6 usable addresses; 7 nodes and the host need 8")]
    [InlineData("kvorum", "10.77.0.0/30", 1, "(prefix 8..29)")]
    [InlineData("Bad-Name", "10.77.0.0/24", 3, "--prefix must be 1 to 8 lower-case letters or digits")]
    [InlineData("waytoolongprefix", "10.77.0.0/24", 3, "--prefix must be 1 to 8")]
    public void Bad_parameters_are_refused_with_one_clear_line(string prefix, string subnet, int nodes, string message)
    {
        var error = Assert.Throws<LabException>(() => LabLayout.Create(prefix, subnet, nodes, "/tmp/x"));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.77.0.0/24", true)]
    [InlineData("10.77.0.128/25", true)]
    [InlineData("10.0.0.0/8", true)]
    [InlineData("10.77.0.9", true)]
    [InlineData("10.77.1.0/24", false)]
    [InlineData("192.168.1.0/24", false)]
    [InlineData("fe80::/64", false)]
    public void Host_routes_that_share_addresses_with_the_subnet_are_found(string destination, bool overlaps)
    {
        Assert.Equal(overlaps, LabLayout.Create("kvorum", "10.77.0.0/24", 3, "/tmp/x").Overlaps(destination));
    }

    [Fact]
    public void An_unknown_node_number_names_the_valid_range()
    {
        var layout = LabLayout.Create("kvorum", "10.77.0.0/24", 3, "/tmp/x");
        Assert.Equal("no node 4: the lab has nodes 1..3", Assert.Throws<LabException>(() => layout.Node(4)).Message);
    }
}
