using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;
using Kvorum.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kvorum.Server.Tests.Node.Agreement;

/// <summary>
/// Members (<see cref="KvorumNode"/> loops, each with its <see cref="DiskRaftStorage"/> in a temporary directory) on a
/// <see cref="ChaosNetwork"/>, which a test restarts (dispose, then reopen from the same data directory), and grows
/// and shrinks through the members' own membership changes, as an operator would with <c>member add|remove|promote</c>.
/// A member is started before the change that adds it is proposed, and stopped once the change that removes it is
/// acknowledged; what the log finally holds is read from the leader at the end (<see cref="SettleAsync"/>).
/// </summary>
internal sealed class ChaosCluster : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kvorum-agree-" + Guid.NewGuid().ToString("N"));
    private readonly string _token = "agree-" + Guid.NewGuid().ToString("N");
    private readonly ulong _snapshotCount;
    private readonly ulong _catchUpEntries;
    private readonly Dictionary<ulong, Member> _members = [];
    private readonly Lock _gate = new();
    private int _named;

    /// <summary>A member this cluster started: its options, and its loop while it runs.</summary>
    internal sealed class Member(ServerOptions options, ulong id)
    {
        public ServerOptions Options { get; } = options;

        public ulong Id { get; } = id;

        public string Name => Options.Name;

        /// <summary>The running loop, or null while the member is down.</summary>
        public KvorumNode? Node { get; set; }

        /// <summary>Set once the change removing it was acknowledged (it is stopped for good).</summary>
        public bool Gone { get; set; }
    }

    private ChaosCluster(ulong snapshotCount, ulong catchUpEntries) => (_snapshotCount, _catchUpEntries) = (snapshotCount, catchUpEntries);

    public ChaosNetwork Network { get; } = new();

    /// <summary>Members whose loop had failed when they were stopped.</summary>
    public List<string> Failures { get; } = [];

    private long _snapshotsOfStopped;

    /// <summary>Snapshots the members took so far.</summary>
    public long SnapshotsTaken => Interlocked.Read(ref _snapshotsOfStopped) + Running.Sum(m => Interlocked.Read(ref m.Node!.Metrics.SnapshotsTaken));

    /// <summary>Restarts done so far.</summary>
    public int Restarts { get; private set; }

    /// <summary>
    /// Starts a new cluster of <paramref name="voters"/> members, which take a snapshot every
    /// <paramref name="snapshotCount"/> entries (at least) and keep <paramref name="catchUpEntries"/> entries behind it.
    /// </summary>
    public static ChaosCluster Start(int voters, ulong snapshotCount, ulong catchUpEntries)
    {
        var cluster = new ChaosCluster(snapshotCount, catchUpEntries);
        var names = Enumerable.Range(1, voters).Select(_ => cluster.NextName()).ToArray();
        var initial = names.ToDictionary(n => n, n => (IReadOnlyList<Uri>)[PeerUrl(n)]);
        foreach (var name in names)
            cluster.Launch(cluster.Options(name, initial, InitialClusterState.New));
        return cluster;
    }

    /// <summary>Members not removed for good, running or down.</summary>
    public IReadOnlyList<Member> Members
    {
        get
        {
            lock (_gate)
                return [.. _members.Values.Where(m => !m.Gone)];
        }
    }

    /// <summary>Running members.</summary>
    public IReadOnlyList<Member> Running => [.. Members.Where(m => m.Node is not null)];

    /// <summary>The member every running member names as leader, if they agree and it runs.</summary>
    public KvorumNode? Leader()
    {
        var running = Running;
        var leaders = running.Select(m => m.Node!.Status.Leader).Distinct().ToList();
        if (leaders.Count != 1)
            return null;
        return running.FirstOrDefault(m => m.Id == leaders[0])?.Node;
    }

    /// <summary>A running member that believes it leads (there may be a stale one beside the real one).</summary>
    public KvorumNode? SomeLeader() =>
        Running.Select(m => m.Node!).Where(n => n.Status.Role == StateRole.Leader).MaxBy(n => n.Status.Term);

    /// <summary>Stops <paramref name="member"/> (its loop and storage), waits <paramref name="down"/>, and opens it again from its data directory.</summary>
    public async Task RestartAsync(Member member, TimeSpan down)
    {
        if (member.Node is not { } node)
            return;
        Network.Down(member.Id);
        member.Node = null;
        await DisposeNodeAsync(member, node);
        await Task.Delay(down);
        if (member.Gone || node.Removed)
            return;
        Restarts++;
        Open(member);
    }

    /// <summary>Starts a member that is down (after a restart that was cut short).</summary>
    public void EnsureRunning(Member member)
    {
        if (member.Node is null && !member.Gone)
            Open(member);
    }

    /// <summary>
    /// Starts a new, empty member and proposes its addition (as a learner or a voter) through <paramref name="via"/>.
    /// It stays running whatever the answer: a change that timed out may still be committed.
    /// </summary>
    public async Task<(Member Member, bool Acknowledged)> AddAsync(KvorumNode via, bool learner, CancellationToken cancellation)
    {
        var name = NextName();
        var initial = new Dictionary<string, IReadOnlyList<Uri>> { [name] = [PeerUrl(name)] };
        var member = Launch(Options(name, initial, InitialClusterState.Existing));
        var context = new Kvorum.Etcd.Api.Member { ID = member.Id, IsLearner = learner };
        context.PeerURLs.Add(PeerUrl(name).ToString().TrimEnd('/'));
        var type = learner ? ConfChangeType.AddLearner : ConfChangeType.AddVoter;
        return (member, await TryChangeAsync(via, new ConfChange(type, member.Id, context.ToByteArray()), cancellation));
    }

    /// <summary>Proposes to promote the learner <paramref name="member"/>.</summary>
    public Task<bool> PromoteAsync(KvorumNode via, Member member, CancellationToken cancellation) =>
        TryChangeAsync(via, new ConfChange(ConfChangeType.AddVoter, member.Id), cancellation);

    /// <summary>Proposes to remove <paramref name="member"/>; once acknowledged, stops it for good.</summary>
    public async Task<bool> RemoveAsync(KvorumNode via, Member member, CancellationToken cancellation)
    {
        if (!await TryChangeAsync(via, new ConfChange(ConfChangeType.RemoveNode, member.Id), cancellation))
            return false;
        await StopForGoodAsync(member);
        return true;
    }

    /// <summary>Stops a member that is no longer in the cluster.</summary>
    public async Task StopForGoodAsync(Member member)
    {
        member.Gone = true;
        Network.Down(member.Id);
        if (member.Node is { } node)
        {
            member.Node = null;
            await DisposeNodeAsync(member, node);
        }
    }

    private async Task DisposeNodeAsync(Member member, KvorumNode node)
    {
        await node.DisposeAsync();
        Interlocked.Add(ref _snapshotsOfStopped, Interlocked.Read(ref node.Metrics.SnapshotsTaken));
        if (node.Failed)
        {
            lock (Failures)
                Failures.Add($"{member.Name}: its loop failed before it was stopped");
        }
    }

    private static async Task<bool> TryChangeAsync(KvorumNode via, ConfChange change, CancellationToken cancellation)
    {
        try
        {
            await via.ChangeMembershipAsync(change, cancellation);
            return true;
        }
        catch (EtcdException)
        {
            return false; // refused, timed out, cancelled, or the member stopped: maybe committed, maybe not
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<Member> all;
        lock (_gate)
            all = [.. _members.Values];
        foreach (var member in all)
        {
            Network.Down(member.Id);
            if (member.Node is { } node)
            {
                member.Node = null;
                await node.DisposeAsync();
            }
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static Uri PeerUrl(string name) => new($"http://{name}.invalid:2380");

    private string NextName() => $"m{Interlocked.Increment(ref _named)}";

    private ServerOptions Options(string name, IReadOnlyDictionary<string, IReadOnlyList<Uri>> initial, InitialClusterState state) => new()
    {
        Name = name,
        DataDir = Path.Combine(_root, name),
        InitialCluster = initial,
        InitialClusterState = state,
        InitialAdvertisePeerUrls = [PeerUrl(name)],
        InitialClusterToken = _token,
        HeartbeatIntervalMs = 50,
        ElectionTimeoutMs = 500,
        SnapshotCount = _snapshotCount,
        SnapshotCatchUpEntries = _catchUpEntries,
        // The nemesis changes membership during partitions on purpose, changes etcd's check would refuse: agreement
        // must hold through them too.
        StrictReconfigCheck = false,
    };

    private Member Launch(ServerOptions options)
    {
        Directory.CreateDirectory(options.DataDir);
        var member = new Member(options, MemberIdentity.MemberId(options.InitialAdvertisePeerUrls, options.InitialClusterToken));
        lock (_gate)
            _members[member.Id] = member;
        Open(member);
        return member;
    }

    private void Open(Member member)
    {
        var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = member.Options.DataDir });
        var node = new KvorumNode(member.Options, storage, member.Id, MemberIdentity.ClusterId([], _token), NullLogger.Instance);
        node.Start(Network.LinkFor(member.Id, node));
        member.Node = node;
        Network.Up(member.Id, node);
    }
}
