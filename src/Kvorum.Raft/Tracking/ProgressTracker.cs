using System.Collections.Immutable;

namespace Kvorum.Raft.Tracking;

/// <summary>
/// The current configuration and the leader's per-member <see cref="Progress"/>; also the vote tally of
/// a campaign. Membership changes one server at a time (thesis §4.1), so one majority rule suffices.
/// </summary>
internal sealed class ProgressTracker
{
    private readonly int _maxInflight;
    private readonly long _maxInflightBytes;
    private readonly Dictionary<ulong, Progress> _progress = [];
    private readonly Dictionary<ulong, bool> _votes = [];
    private ulong[] _scratch = new ulong[8];

    public ProgressTracker(int maxInflight, long maxInflightBytes)
    {
        _maxInflight = maxInflight;
        _maxInflightBytes = maxInflightBytes;
    }

    public ConfState Config { get; private set; } = ConfState.Empty;

    public IReadOnlyDictionary<ulong, Progress> Progress => _progress;

    public ImmutableArray<ulong> Voters => Config.Voters;

    public bool TryGet(ulong id, out Progress progress) => _progress.TryGetValue(id, out progress!);

    /// <summary>
    /// Switches to <paramref name="config"/>: new members start probing at <paramref name="next"/>,
    /// removed members are forgotten, existing members keep their progress.
    /// </summary>
    public void SetConfig(ConfState config, ulong next)
    {
        Config = config;
        foreach (var id in _progress.Keys.ToArray())
        {
            if (!config.Contains(id))
                _progress.Remove(id);
        }
        foreach (var id in config.All)
        {
            if (_progress.TryGetValue(id, out var pr))
            {
                pr.IsLearner = config.IsLearner(id);
            }
            else
            {
                _progress[id] = new Progress(next, _maxInflight, _maxInflightBytes, config.IsLearner(id));
            }
        }
        foreach (var id in _votes.Keys.ToArray())
        {
            if (!config.IsVoter(id))
                _votes.Remove(id);
        }
    }

    /// <summary>Highest index replicated on a majority of voters.</summary>
    public ulong CommittedIndex() => MajorityOf(static p => p.Match);

    /// <summary>Highest read sequence acknowledged by a majority of voters (thesis §6.4).</summary>
    public ulong ReadAckIndex() => MajorityOf(static p => p.ReadAck);

    private ulong MajorityOf(Func<Progress, ulong> select)
    {
        var voters = Config.Voters;
        if (_scratch.Length < voters.Length)
            _scratch = new ulong[voters.Length];
        var span = _scratch.AsSpan(0, voters.Length);
        for (var i = 0; i < voters.Length; i++)
            span[i] = _progress.TryGetValue(voters[i], out var p) ? select(p) : 0;
        return QuorumMath.MajorityValue(span);
    }

    /// <summary>True if a majority of voters was heard from since the last check (self is always active).</summary>
    public bool QuorumActive(ulong self)
    {
        var active = 0;
        foreach (var id in Config.Voters)
        {
            if (id == self || (_progress.TryGetValue(id, out var p) && p.RecentActive))
                active++;
        }
        return Config.Voters.Length == 0 || active >= QuorumMath.Majority(Config.Voters.Length);
    }

    public void ResetVotes() => _votes.Clear();

    /// <summary>Records <paramref name="id"/>'s vote; a second vote from the same member is ignored.</summary>
    public void RecordVote(ulong id, bool granted) => _votes.TryAdd(id, granted);

    public VoteResult TallyVotes()
    {
        int granted = 0, rejected = 0;
        foreach (var id in Config.Voters)
        {
            if (_votes.TryGetValue(id, out var v))
            {
                if (v) granted++;
                else rejected++;
            }
        }
        return QuorumMath.Tally(Config.Voters.Length, granted, rejected);
    }

    /// <summary>Number of granted votes recorded (for status reporting).</summary>
    public int GrantedVotes => _votes.Count(static kv => kv.Value);
}
