using System.Globalization;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Cluster;

/// <summary>What <c>cluster up</c> knows about one member at one refresh.</summary>
/// <param name="Name">The member name.</param>
/// <param name="ExitCode">The child's exit code if it has exited, else null.</param>
/// <param name="Status">Its answer to Maintenance.Status, or null when it did not answer in time.</param>
internal sealed record MemberState(string Name, int? ExitCode, StatusResponse? Status)
{
    /// <summary>Renders the live status line: per member up/down, leader, term and raft index.</summary>
    /// <param name="members">Every member, in order.</param>
    /// <returns>e.g. <c>infra1 up leader term 2 index 9 | infra2 up term 2 index 9 | infra3 down</c>.</returns>
    public static string Line(IEnumerable<MemberState> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        return string.Join(" | ", members.Select(m => m.ToString()));
    }

    /// <summary>This member's part of the status line.</summary>
    public override string ToString()
    {
        if (ExitCode is { } code)
            return $"{Name} exited({code.ToString(CultureInfo.InvariantCulture)})";
        if (Status is null)
            return $"{Name} down";
        var leader = Status.Header is not null && Status.Leader != 0 && Status.Leader == Status.Header.MemberId;
        return string.Create(CultureInfo.InvariantCulture,
            $"{Name} up{(leader ? " leader" : "")} term {Status.RaftTerm} index {Status.RaftIndex}");
    }
}
