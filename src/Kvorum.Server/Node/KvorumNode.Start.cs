using Kvorum.Raft;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Node;

/// <summary>Starting a member: its Raft core and state machine rebuilt from storage, or bootstrapped for a new cluster.</summary>
internal sealed partial class KvorumNode
{
    /// <summary>
    /// Builds the Raft core from what the storage holds. An empty storage is bootstrapped from
    /// <see cref="ServerOptions.InitialCluster"/> for a new cluster, or left empty for a member joining an
    /// existing one (the leader then sends it the log or a snapshot). A non-empty storage is a restart:
    /// the initial-cluster flags are ignored.
    /// </summary>
    private void Restore()
    {
        var fresh = _storage.LastIndex == 0 && _storage.HardState.IsEmpty && _storage.Snapshot.IsEmpty;
        if (fresh && _options.InitialClusterState == InitialClusterState.New)
        {
            RaftBootstrap.Write(_storage, InitialMembers.Changes(InitialMembers.Of(_options)));
        }
        // Know the initial members' addresses from the flags, so a member that joins an existing cluster
        // can answer the leader before it has learned the member table from the log.
        foreach (var (name, urls) in _options.InitialCluster)
        {
            var id = MemberIdentity.MemberId(urls, _options.InitialClusterToken);
            if (id != MemberId)
                _transport?.SetPeer(id, urls);
        }
        if (!_storage.Snapshot.IsEmpty)
            RestoreStateMachineFromStorage();
        var electionTicks = Math.Max(2, _options.ElectionTimeoutMs / Math.Max(1, _options.HeartbeatIntervalMs));
        _raft = new RaftNode(new RaftConfig
        {
            Id = MemberId,
            Storage = _storage,
            Random = new Random(unchecked((int)(MemberId ^ (ulong)Environment.TickCount64))),
            ElectionTick = electionTicks,
            HeartbeatTick = 1,
            PreVote = _options.PreVote,
            RandomizedElectionTimeout = _options.RandomizedElectionTimeout,
            CheckQuorum = true,
            Applied = _state.AppliedIndex,
            MaxSizePerMsg = 1024 * 1024,
            MaxInflightMsgs = 256,
        });
        // Apply what was committed before the restart, so the state machine is current before serving; its logins were
        // the clients' of the member's last run, whose tokens it forgets (AuthStore.RecordsTokens).
        _state.Auth.RecordsTokens = false;
        ProcessReady();
        _state.Auth.RecordsTokens = true;
        PublishStatus();
    }
}
