using Kvorum.Lab.Host;

namespace Kvorum.Lab.Tests.Lab;

public class PrerequisitesTests
{
    [Fact]
    public void Not_root_is_named_first()
    {
        Assert.StartsWith("the lab needs root", Prerequisites.Missing(false, t => "/usr/sbin/" + t), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_tool_is_named_with_its_package()
    {
        Assert.Equal(
            "the lab needs nft, not found on PATH: install with `apt-get install nftables`",
            Prerequisites.Missing(true, t => t == "nft" ? null : "/usr/sbin/" + t));
        Assert.Equal(
            "the lab needs ip and tc and nft, not found on PATH: install with `apt-get install iproute2 nftables`",
            Prerequisites.Missing(true, _ => null));
        Assert.Null(Prerequisites.Missing(true, t => "/usr/sbin/" + t));
    }
}
