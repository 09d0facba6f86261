using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node.Wire;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Node;

public sealed partial class KvorumNode
{
    /// <summary>Highest log index applied to the MVCC store and member table.</summary>
    private ulong _appliedIndex;

    /// <summary>The term of the entry at <see cref="_appliedIndex"/>, recorded in snapshots with it.</summary>
    private ulong _appliedTerm;

    /// <summary>Set once any leader has been known (never cleared): attributes can be published, late ticks are worth a warning.</summary>
    private bool _leaderKnown;

    /// <summary>Applies one committed entry; answers the client if this member proposed it.</summary>
    private void Apply(in Entry e)
    {
        if (e.Index <= _appliedIndex)
            return;
        _appliedIndex = e.Index;
        _appliedTerm = e.Term;
        _appliedBytesSinceSnapshot += e.Data.Length;
        PublishBytesInUse();
        if (e.Type == EntryType.ConfChange)
        {
            ApplyConfChange(ConfChange.Decode(e.Data));
            return;
        }
        if (e.Data.IsEmpty)
            return; // A leader's no-op.
        var request = InternalRequest.Parser.ParseFrom(e.Data.Span);
        if (request.RequestCase == InternalRequest.RequestOneofCase.Put)
            PutValueSharing.ShareValue(request.Put, e.Data);
        object result;
        try
        {
            result = request.RequestCase switch
            {
                InternalRequest.RequestOneofCase.Put => _mvcc.Put(request.Put),
                InternalRequest.RequestOneofCase.DeleteRange => _mvcc.DeleteRange(request.DeleteRange),
                InternalRequest.RequestOneofCase.Txn => _mvcc.Txn(request.Txn),
                InternalRequest.RequestOneofCase.Compaction => _mvcc.Compact(request.Compaction),
                InternalRequest.RequestOneofCase.Attributes => ApplyAttributes(request.Attributes),
                _ => new EtcdException(Grpc.Core.StatusCode.Internal, "etcdserver: unknown request"),
            };
        }
        catch (EtcdException ex)
        {
            result = ex;
        }
        PublishStoreSize();
        CompleteProposal(request.Id, result);
    }

    private object ApplyAttributes(MemberAttributes a)
    {
        var m = _members.Apply(a);
        if (m is not null && a.PeerUrls.Count > 0 && a.Id != MemberId)
            _transport?.SetPeer(a.Id, [.. a.PeerUrls.Select(u => new Uri(u))]);
        return m ?? (object)new EtcdException(Grpc.Core.StatusCode.NotFound, "etcdserver: member not found");
    }

    private void ApplyConfChange(ConfChange cc)
    {
        var added = _members.Apply(cc);
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
            }
        }
        CompleteConfChange(cc);
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
        FailReadsOfOtherLeaders(soft.Lead);
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
