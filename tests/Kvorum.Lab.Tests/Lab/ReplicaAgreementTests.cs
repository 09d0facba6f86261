using Kvorum.Lab.Jepsen;

namespace Kvorum.Lab.Tests.Lab;

public class ReplicaAgreementTests
{
    [Fact]
    public void Members_agree_only_when_all_answered_with_one_hash()
    {
        var same = new ReplicaAgreement(42, [("n1", 7u), ("n2", 7u), ("n3", 7u)]);
        Assert.True(same.Agree);
        Assert.Equal("replicas: all 3 members hold the same history at revision 42 (HashKV 7)", same.Describe());

        var differ = new ReplicaAgreement(42, [("n1", 7u), ("n2", 8u), ("n3", 7u)]);
        Assert.False(differ.Agree);
        Assert.Equal("replicas DIFFER at revision 42: n1 7, n2 8, n3 7", differ.Describe());

        var silent = new ReplicaAgreement(42, [("n1", 7u), ("n2", null), ("n3", 7u)]);
        Assert.False(silent.Agree);
        Assert.Equal("replicas DIFFER at revision 42: n1 7, n2 no answer, n3 7", silent.Describe());

        var noLeader = new ReplicaAgreement(0, [("n1", null), ("n2", null)]);
        Assert.False(noLeader.Agree);
        Assert.Equal("replicas: the leader did not answer HashKV", noLeader.Describe());
    }
}
