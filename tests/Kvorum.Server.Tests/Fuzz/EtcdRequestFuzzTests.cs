using Kvorum.Fuzz.Targets;
using Kvorum.Tests.Fuzzing;

namespace Kvorum.Server.Tests.Fuzz;

/// <summary>Random and damaged client requests through etcd's validators (<see cref="EtcdRequestTarget"/>).</summary>
public class EtcdRequestFuzzTests
{
    [Fact]
    public void Random_and_damaged_requests_are_accepted_or_refused_with_etcds_errors()
    {
        FuzzRun.Check(EtcdRequestTarget.Seeds(), EtcdRequestTarget.Run, GetType());
    }
}
