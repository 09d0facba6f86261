using System.Diagnostics;
using Kvorum.Lab.Nodes;

namespace Kvorum.Lab.Scenarios;

/// <summary>
/// What a scenario works with: the lab it brings up, a clock started at the beginning, narration lines stamped
/// with that clock, the predictions it checks, and probes of the cluster (leader, convergence).
/// </summary>
internal sealed class ScenarioContext : IAsyncDisposable
{
    private static readonly TimeSpan ProbeDeadline = TimeSpan.FromMilliseconds(500);
    private readonly List<Expectation> _expectations = [];
    private LabControl? _lab;

    /// <summary>Creates the context; no lab is up yet.</summary>
    /// <param name="options">Scenario options.</param>
    /// <param name="output">Where narration goes.</param>
    /// <param name="cancellation">Ctrl-C.</param>
    public ScenarioContext(ScenarioOptions options, TextWriter output, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Out = output;
        Cancellation = cancellation;
    }

    /// <summary>The options.</summary>
    public ScenarioOptions Options { get; }

    /// <summary>Narration output.</summary>
    public TextWriter Out { get; }

    /// <summary>Ctrl-C.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>Started when the scenario starts.</summary>
    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    /// <summary>The running lab.</summary>
    public LabControl Lab => _lab ?? throw new InvalidOperationException("the scenario has not brought the lab up");

    /// <summary>The members' election timeout.</summary>
    public TimeSpan ElectionTimeout => TimeSpan.FromMilliseconds(Options.ElectionTimeoutMs);

    /// <summary>The predictions checked so far.</summary>
    public IReadOnlyList<Expectation> Expectations => _expectations;

    /// <summary>Time since the start.</summary>
    public TimeSpan Now => Clock.Elapsed;

    /// <summary>Brings up a fresh lab of <paramref name="nodes"/> members (taking down one this scenario had).</summary>
    /// <param name="nodes">Number of members.</param>
    /// <param name="preVote">Whether members run PreVote.</param>
    /// <param name="randomizedElectionTimeout">Whether members draw their election timeouts at random (off only for split-vote).</param>
    /// <param name="peerDelay">Relays that delay the messages between members, or null for direct links.</param>
    /// <param name="heartbeatMs">The members' heartbeat interval, their tick, when not the options' (split-vote's finer one).</param>
    public async Task UpAsync(int nodes, bool preVote = true, bool randomizedElectionTimeout = true, Delay.PeerDelay? peerDelay = null, int? heartbeatMs = null)
    {
        await DownAsync().ConfigureAwait(false);
        var heartbeat = heartbeatMs ?? Options.HeartbeatMs;
        var randomization = randomizedElectionTimeout ? "" : ", election timeouts NOT randomized";
        Say($"bringing up {nodes} members, each in its own network namespace (election timeout {Options.ElectionTimeoutMs} ms, heartbeat {heartbeat} ms, PreVote {(preVote ? "on" : "off")}{randomization})");
        var up = Options.Lab with
        {
            Nodes = nodes,
            Serve = Options.Lab.Serve with
            {
                ElectionTimeoutMs = Options.ElectionTimeoutMs,
                HeartbeatIntervalMs = heartbeat,
                PreVote = preVote,
                RandomizedElectionTimeout = randomizedElectionTimeout ? null : false,
            },
            PeerDelay = peerDelay,
        };
        _lab = await LabControl.UpAsync(up, TextWriter.Null, Cancellation).ConfigureAwait(false);
        var leader = await LeaderAsync().ConfigureAwait(false);
        Say($"lab up: {string.Join(", ", _lab.Layout.Nodes.Select(n => $"{n.Name} {n.Address}"))}; n{leader} leads");
    }

    /// <summary>Takes the lab down if this scenario brought one up.</summary>
    public Task DownAsync()
    {
        if (_lab is null)
            return Task.CompletedTask;
        var directory = _lab.Directory;
        _lab.Dispose();
        _lab = null;
        LabControl.Down(directory, TextWriter.Null);
        return Task.CompletedTask;
    }

    /// <summary>A narration line, stamped with the scenario clock.</summary>
    /// <param name="text">What happens.</param>
    public void Say(string text) => Out.WriteLine($"[{Now.TotalSeconds,6:0.0}s] {text}");

    /// <summary>A line of theory: what to expect and why.</summary>
    /// <param name="text">The prediction in words.</param>
    public void Theory(string text) => Out.WriteLine($"         theory: {text}");

    /// <summary>Records and prints a prediction and whether it held.</summary>
    /// <param name="prediction">What theory predicts.</param>
    /// <param name="held">Whether it happened.</param>
    /// <param name="observed">What happened, with figures.</param>
    public void Expect(string prediction, bool held, string observed)
    {
        _expectations.Add(new Expectation(prediction, held, observed));
        Out.WriteLine($"         {(held ? "HELD  " : "FAILED")} {prediction}: {observed}");
    }

    /// <summary>Starts a writer (and a linearizable reader) against each of <paramref name="nodes"/>.</summary>
    /// <param name="nodes">The nodes; all when null.</param>
    /// <param name="reads">Also read.</param>
    /// <param name="timeout">Deadline per call (default 1 s).</param>
    /// <returns>The running load; dispose to stop it.</returns>
    public ClientLoad StartLoad(IEnumerable<int>? nodes = null, bool reads = false, TimeSpan? timeout = null) =>
        new(Lab.Client, nodes ?? Lab.Layout.Nodes.Select(n => n.Number), Clock, timeout ?? TimeSpan.FromSeconds(1), $"scenario/{Guid.NewGuid():N}"[..17], reads);

    /// <summary>Waits up to 30 s until every running member agrees on a leader.</summary>
    /// <returns>The leader's node number.</returns>
    public async Task<int> LeaderAsync() => (await Lab.WaitForLeaderAsync(TimeSpan.FromSeconds(30), Cancellation).ConfigureAwait(false)).Leader;

    /// <summary>
    /// Waits until one of <paramref name="nodes"/> (other than <paramref name="except"/>) is leader and every
    /// member of <paramref name="nodes"/> that answers names it.
    /// </summary>
    /// <param name="nodes">The side to watch.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="except">A node that does not count (the old leader).</param>
    /// <returns>The leader and when it was seen, or null on timeout.</returns>
    public async Task<(int Leader, TimeSpan At)?> WaitLeaderAmongAsync(IReadOnlyList<int> nodes, TimeSpan timeout, int? except = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var deadline = Now + timeout;
        while (Now < deadline)
        {
            var statuses = await StatusesAsync(nodes).ConfigureAwait(false);
            var leaderIndex = Array.FindIndex(statuses, s => s is { IsLeader: true });
            if (leaderIndex >= 0 && nodes[leaderIndex] != except)
            {
                var id = statuses[leaderIndex]!.MemberId;
                if (statuses.All(s => s is null || s.Leader == id))
                    return (nodes[leaderIndex], Now);
            }

            await Task.Delay(25, Cancellation).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>The status of each of <paramref name="nodes"/>, null where it does not answer.</summary>
    /// <param name="nodes">The nodes; all when null.</param>
    /// <returns>Statuses in the same order.</returns>
    public Task<NodeStatus?[]> StatusesAsync(IEnumerable<int>? nodes = null) =>
        Task.WhenAll((nodes ?? Lab.Layout.Nodes.Select(n => n.Number)).Select(n =>
            Lab.IsRunning(n) ? Lab.Client.StatusAsync(n, ProbeDeadline, Cancellation) : Task.FromResult<NodeStatus?>(null)));

    /// <summary>Waits until every running member answers with the same commit and applied index and one leader.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>The common applied index and how long it took, or null on timeout.</returns>
    public async Task<(ulong Applied, TimeSpan Took)?> WaitConvergedAsync(TimeSpan timeout)
    {
        var start = Now;
        while (Now - start < timeout)
        {
            int[] running = [.. Lab.Layout.Nodes.Where(n => Lab.IsRunning(n.Number)).Select(n => n.Number)];
            var statuses = await StatusesAsync(running).ConfigureAwait(false);
            if (statuses.All(s => s is not null && s.Leader != 0)
                && statuses.Select(s => (s!.CommitIndex, s.AppliedIndex, s.Leader)).Distinct().Count() == 1
                && statuses[0]!.CommitIndex == statuses[0]!.AppliedIndex)
            {
                return (statuses[0]!.AppliedIndex, Now - start);
            }

            await Task.Delay(50, Cancellation).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>
    /// Waits until node <paramref name="node"/> answers and has applied everything the others had committed
    /// when it started answering (while the workload keeps writing).
    /// </summary>
    /// <param name="node">The restarted node.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>How long it took, or null on timeout.</returns>
    public async Task<TimeSpan?> WaitCaughtUpAsync(int node, TimeSpan timeout)
    {
        var start = Now;
        ulong? target = null;
        while (Now - start < timeout)
        {
            var statuses = await StatusesAsync().ConfigureAwait(false);
            var self = statuses[node - 1];
            if (self is not null)
            {
                target ??= statuses.Where(s => s is not null).Max(s => s!.CommitIndex);
                if (self.AppliedIndex >= target && self.Leader != 0)
                    return Now - start;
            }

            await Task.Delay(50, Cancellation).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>
    /// One failover round: SIGKILL the leader, time until another member leads and the others agree, then
    /// start the killed member again and wait (up to 30 s) until it has caught up.
    /// </summary>
    /// <returns>The killed leader, the new one (null if none within 30 s) and the time to it.</returns>
    public async Task<(int Killed, int? Successor, TimeSpan Took)> KillLeaderRoundAsync()
    {
        var leader = await LeaderAsync().ConfigureAwait(false);
        var killed = Now;
        Lab.Kill(leader);
        var elected = await WaitLeaderAmongAsync([.. Lab.Layout.Nodes.Select(n => n.Number).Where(n => n != leader)], TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        Lab.StartNode(leader);
        await WaitCaughtUpAsync(leader, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return elected is { } e ? (leader, e.Leader, e.At - killed) : (leader, null, TimeSpan.Zero);
    }

    /// <summary>Sleeps on the scenario clock.</summary>
    /// <param name="duration">How long.</param>
    public Task SleepAsync(TimeSpan duration) => Task.Delay(duration, Cancellation);

    /// <summary>Takes the lab down unless the options say keep it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Options.Keep && _lab is not null)
        {
            Out.WriteLine($"lab left up (--keep); `kvorum lab down --dir {_lab.Directory}` removes it");
            _lab.Dispose();
            return;
        }

        await DownAsync().ConfigureAwait(false);
    }
}
