using Kvorum.Raft.Tracking;
using Wire = Kvorum.Server.Observe.Wire;

namespace Kvorum.Server.Observe;

/// <summary>Converts queued events to their wire form (<c>Observe/Wire/observe.proto</c>), on the watcher's call.</summary>
internal static class ObserveWireEvents
{
    /// <summary>The wire form of <paramref name="e"/>, published by member <paramref name="member"/>.</summary>
    public static Wire.ObserveEvent ToWire(in ObservedEvent e, ulong member)
    {
        var wire = new Wire.ObserveEvent { Member = member, UnixMicros = e.UnixMicros };
        switch (e.Kind)
        {
            case ObservedKind.State:
                wire.State = ToWire(e.State!);
                break;
            case ObservedKind.Sent:
                wire.Sent = ToWire(e.Message);
                break;
            case ObservedKind.Received:
                wire.Received = ToWire(e.Message);
                break;
            default:
                wire.Dropped = new Wire.Dropped { Slow = (ulong)e.Slow, Sampled = (ulong)e.Sampled };
                break;
        }
        return wire;
    }

    private static Wire.MemberState ToWire(ObservedState s)
    {
        var wire = new Wire.MemberState
        {
            Id = s.Id,
            Role = (Wire.Role)(int)s.Role,
            Term = s.Term,
            Vote = s.Vote,
            Leader = s.Leader,
            Commit = s.Commit,
            Applied = s.Applied,
            FirstIndex = s.FirstIndex,
            LastIndex = s.LastIndex,
            ElectionElapsedTicks = (uint)s.ElectionElapsed,
            RandomizedElectionTimeoutTicks = (uint)s.RandomizedElectionTimeout,
            TickMs = (uint)s.TickMs,
            Learner = s.Learner,
            LabFaults = s.LabFaults,
        };
        foreach (var run in s.LogTail)
            wire.LogTail.Add(new Wire.TermRun { FirstIndex = run.FirstIndex, Term = run.Term });
        foreach (var p in s.Peers)
            wire.Peers.Add(new Wire.PeerProgress { Id = p.Id, Match = p.Match, Next = p.Next, State = StateName(p.State) });
        return wire;
    }

    private static Wire.RaftMessageEvent ToWire(in ObservedMessage m) => new()
    {
        Kind = (Wire.MessageKind)(int)m.Type,
        From = m.From,
        To = m.To,
        Term = m.Term,
        LogTerm = m.LogTerm,
        Index = m.Index,
        Commit = m.Commit,
        Entries = (uint)m.Entries,
        Reject = m.Reject,
        RejectHint = m.RejectHint,
        Seq = m.Seq,
    };

    private static string StateName(ProgressState state) => state switch
    {
        ProgressState.Probe => "probe",
        ProgressState.Replicate => "replicate",
        ProgressState.Snapshot => "snapshot",
        _ => state.ToString().ToLowerInvariant(),
    };
}
