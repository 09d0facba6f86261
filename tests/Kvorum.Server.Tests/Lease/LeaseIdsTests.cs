using Kvorum.Server.Lease;

namespace Kvorum.Server.Tests.Lease;

/// <summary>The ids a member picks for grants with ID 0 (<see cref="LeaseIds"/>).</summary>
public sealed class LeaseIdsTests
{
    [Fact]
    public void Ids_are_positive_distinct_and_differ_between_members()
    {
        var a = new LeaseIds(0xffff_ffff_ffff_ffff, 1_700_000_000_000);
        var b = new LeaseIds(0x1234, 1_700_000_000_000);
        var seen = new HashSet<long>();
        for (var i = 0; i < 10_000; i++)
        {
            var x = a.Next();
            var y = b.Next();
            Assert.True(x > 0 && y > 0);
            Assert.True(seen.Add(x));
            Assert.True(seen.Add(y));
        }
    }
}
