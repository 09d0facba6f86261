using Kvorum.Fuzz.Targets;
using Kvorum.Raft;
using Kvorum.Server.Node;
using Kvorum.Tests.Fuzzing;

namespace Kvorum.Server.Tests.Fuzz;

/// <summary>Random and damaged member-table entries (<see cref="MemberTableTarget"/>).</summary>
public class MemberTableFuzzTests
{
    [Fact]
    public void Random_and_damaged_membership_entries_apply_or_are_refused_as_malformed()
    {
        FuzzRun.Check(MemberTableTarget.Seeds(), MemberTableTarget.Run, GetType());
    }

    [Fact]
    public void Valid_membership_entries_add_and_update_members()
    {
        var seeds = MemberTableTarget.Seeds();
        var table = new MemberTable();
        RecordedMembership.Replay(table, new Entry(1, 1, EntryType.ConfChange, new ConfChange(ConfChangeType.AddVoter, 1, ReadOnlyMemory<byte>.Empty).Encode()));
        RecordedMembership.Replay(table, new Entry(2, 1, EntryType.ConfChange, seeds[0].AsMemory(1)));
        RecordedMembership.Replay(table, new Entry(3, 1, EntryType.Normal, seeds[3].AsMemory(1)));
        Assert.True(table.TryGet(2, out var added));
        Assert.Equal("two", added.Name);
        Assert.True(table.TryGet(1, out var updated));
        Assert.Equal("one", updated.Name);
        Assert.Equal(["http://10.0.0.1:2380"], updated.PeerURLs);
    }
}
