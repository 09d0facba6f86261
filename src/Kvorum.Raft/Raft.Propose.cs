namespace Kvorum.Raft;

internal sealed partial class Raft
{
    /// <summary>Appends a client command (leader; a follower forwards it).</summary>
    public ProposeResult Propose(ReadOnlyMemory<byte> data)
    {
        if (Role != StateRole.Leader)
            return Forward(new Entry(0, 0, data));
        if (_leadTransferee != 0)
            return ProposeResult.Failed(ProposeStatus.TransferInProgress, Lead);
        if (!Tracker.Config.IsVoter(Id) && _selfRemovalIndex == 0)
            return ProposeResult.Failed(ProposeStatus.NotLeader, 0);
        Span<Entry> e = [new Entry(0, 0, data)];
        AppendEntries(e);
        return ProposeResult.Ok(e[0].Index, e[0].Term);
    }

    /// <summary>A follower sends a proposal to the leader it knows; a server with no leader refuses it.</summary>
    private ProposeResult Forward(Entry entry)
    {
        if (Role != StateRole.Follower || Lead == 0)
            return ProposeResult.Failed(ProposeStatus.NotLeader, 0);
        Send(new Message { Type = MessageType.Propose, To = Lead, Entries = new[] { entry } });
        return ProposeResult.Failed(ProposeStatus.Forwarded, Lead);
    }

    /// <summary>The leader receives proposals forwarded by a follower; refused ones are dropped (the proposer times out).</summary>
    private void HandleForwardedProposals(in Message m)
    {
        foreach (var e in m.Entries.Span)
        {
            if (e.Type == EntryType.ConfChange)
            {
                ConfChange change;
                try
                {
                    change = ConfChange.Decode(e.Data);
                }
                catch (FormatException)
                {
                    continue;
                }
                ProposeConfChange(change);
            }
            else
            {
                Propose(e.Data);
            }
        }
    }
}
