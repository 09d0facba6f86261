using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Node;

/// <summary>
/// Applying what the Raft core committed, in log order: client requests to the MVCC store, the lease table and the
/// member table, configuration changes to the table and the transport; and the core's changes of role and leader
/// (a leader's own first entry promotes its lessor, a lost leadership demotes it).
/// </summary>
internal sealed partial class KvorumNode
{
    /// <summary>Set once any leader has been known (never cleared): attributes can be published, late ticks are worth a warning.</summary>
    private bool _leaderKnown;

    /// <summary>Applies one committed entry; answers the client if this member proposed it.</summary>
    private void Apply(in Entry e)
    {
        if (!_state.Advance(e.Index, e.Term))
            return;
        _snapshots.Applied(e.Data.Length);
        if (e.Type == EntryType.ConfChange)
        {
            ApplyConfChange(ConfChange.Decode(e.Data));
            return;
        }
        if (e.Data.IsEmpty)
        {
            OnLeaderEntryApplied(e.Term); // A leader's no-op.
            return;
        }
        var (request, result) = _state.ApplyRequest(e.Data);
        if (request.Attributes is { PeerUrls.Count: > 0 } a && result is Member && a.Id != MemberId)
        {
            _transport?.SetPeer(a.Id, [.. a.PeerUrls.Select(u => new Uri(u))]);
            RetainLeaseChannels();
        }
        _quota.PublishStoreSize(_state.Store.SizeBytes);
        _proposals.Complete(request.Id, result);
    }

    private void ApplyConfChange(ConfChange cc)
    {
        var added = _state.Members.Apply(cc);
        if (added is not null && cc.NodeId != MemberId && added.PeerURLs.Count > 0)
            _transport?.SetPeer(cc.NodeId, [.. added.PeerURLs.Select(u => new Uri(u))]);
        if (cc.Type == ConfChangeType.RemoveNode)
        {
            if (cc.NodeId == MemberId)
            {
                Removed = true;
                LogRemoved(_log);
                // Let the loop finish this Ready (the removal must be durable), then stop.
                _ = Task.Delay(TimeSpan.FromMilliseconds(_options.ElectionTimeoutMs)).ContinueWith(_ => _stop.Cancel(), TaskScheduler.Default);
            }
            else
            {
                _transport?.RemovePeer(cc.NodeId);
                RetainLeaseChannels();
            }
        }
        _membership.Complete(cc);
    }

    /// <summary>Connects to members as soon as their ConfChange is appended (configuration takes effect on append).</summary>
    private void LearnPeersFromEntries(IReadOnlyList<Entry> entries)
    {
        foreach (var e in entries)
        {
            if (e.Type != EntryType.ConfChange)
                continue;
            var cc = ConfChange.Decode(e.Data);
            if (cc.NodeId == MemberId || cc.Context.IsEmpty || cc.Type == ConfChangeType.RemoveNode)
                continue;
            var m = Member.Parser.ParseFrom(cc.Context.Span);
            if (m.PeerURLs.Count > 0)
                _transport?.SetPeer(cc.NodeId, [.. m.PeerURLs.Select(u => new Uri(u))]);
        }
    }

    private void OnSoftState(SoftState soft)
    {
        LogSoftState(_log, soft.Role, soft.Lead, _raft.Term);
        _reads.FailOtherLeaders(soft.Lead);
        if (soft.Role != StateRole.Leader)
            DemoteLeases();
        if (soft.Role == StateRole.Leader || soft.Lead != 0)
        {
            _leaderKnown = true;
            Interlocked.Increment(ref Metrics.LeaderChanges);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "this member was removed from the cluster; stopping")]
    private static partial void LogRemoved(ILogger log);

    [LoggerMessage(Level = LogLevel.Information, Message = "raft: {Role}, leader {Lead:x}, term {Term}")]
    private static partial void LogSoftState(ILogger log, StateRole role, ulong lead, ulong term);
}
