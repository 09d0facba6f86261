using Kvorum.Lab.Jepsen;
using Kvorum.Lab.Nodes;
using Kvorum.Lab.State;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab.Tests.Lab;

/// <summary>How a lab with a learner starts its members, and which faults a lab of one member can be given.</summary>
public class LearnerLabTests
{
    private static readonly LabState State = new() { Prefix = "kvorum", Subnet = "10.77.0.0/24", Nodes = 4, Learners = 1, ServerCommand = ["kvorum"] };

    private static string Flag(IReadOnlyList<string> arguments, string flag) => arguments[arguments.ToList().IndexOf(flag) + 1];

    [Fact]
    public void The_voters_bootstrap_among_themselves_and_the_learner_joins_them()
    {
        var layout = State.Layout("/tmp/x");

        var voter = NodeLauncher.Serve(State, layout, layout.Node(3)).ToArgs();
        Assert.Equal("new", Flag(voter, "--initial-cluster-state"));
        Assert.Equal("n1=http://10.77.0.1:2380,n2=http://10.77.0.2:2380,n3=http://10.77.0.3:2380", Flag(voter, "--initial-cluster"));
        Assert.False(NodeLauncher.IsLearner(State, layout.Node(3)));

        var learner = NodeLauncher.Serve(State, layout, layout.Node(4)).ToArgs();
        Assert.Equal("existing", Flag(learner, "--initial-cluster-state"));
        Assert.Equal("n1=http://10.77.0.1:2380,n2=http://10.77.0.2:2380,n3=http://10.77.0.3:2380,n4=http://10.77.0.4:2380", Flag(learner, "--initial-cluster"));
        Assert.True(NodeLauncher.IsLearner(State, layout.Node(4)));
    }

    [Fact]
    public void A_lone_member_gets_only_the_faults_that_need_no_peer()
    {
        Assert.Equal(["kill", "pause"], Nemesis.DefaultKinds(1));
        Assert.Equal(Nemesis.AllKinds, Nemesis.DefaultKinds(2));
        Assert.Null(Nemesis.Validate(["kill"], 1));
        Assert.Contains("needs two members", Nemesis.Validate(["kill", "partition"], 1), StringComparison.Ordinal);
        Assert.Null(Nemesis.Validate(["partition", "loss"], 4));
        Assert.Contains("unknown fault 'crash'", Nemesis.Validate(["crash"], 3), StringComparison.Ordinal);
    }
}
