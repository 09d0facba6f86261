using Kvorum.Lab.Faults;
using Kvorum.Lab.Host;
using Kvorum.Lab.Nodes;
using Kvorum.Lab.State;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab;

/// <summary>
/// A running lab: its state file, the network and the member processes. Every command of <c>kvorum lab</c> is
/// one method here; each change is saved to the state file before it is made.
/// </summary>
internal sealed partial class LabControl : IDisposable
{
    private static readonly TimeSpan StatusDeadline = TimeSpan.FromMilliseconds(800);
    private readonly LabState _state;

    private LabControl(string directory, LabState state)
    {
        Directory = directory;
        _state = state;
        Layout = state.Layout(directory);
        Client = new LabClient(Layout, state.Tls ? LabTls.In(directory) : null);
    }

    /// <summary>The lab directory.</summary>
    public string Directory { get; }

    /// <summary>Names, addresses and files.</summary>
    public LabLayout Layout { get; }

    /// <summary>Client calls to the nodes.</summary>
    public LabClient Client { get; }

    /// <summary>The faults in force.</summary>
    public FaultSet Faults => _state.FaultSet();

    /// <summary>The pace the lab was brought up with and the timeouts it gives, for status; null at pace 1.</summary>
    public string? PaceLine => _state.Pace == 1 ? null : Kvorum.Lab.Pace.Describe(_state.Serve, _state.Pace);

    /// <summary>The number of nodes.</summary>
    public int NodeCount => _state.Nodes;

    /// <summary>The members that bootstrapped the cluster as voters, numbered 1..VoterCount; the learners follow them.</summary>
    public int VoterCount => _state.Voters;

    /// <summary>Opens the lab that is up in <paramref name="directory"/>.</summary>
    /// <param name="directory">The lab directory.</param>
    /// <exception cref="LabException">Not root, a tool is missing, or no lab is up there.</exception>
    public static LabControl Open(string directory)
    {
        Prerequisites.Require();
        var full = Path.GetFullPath(directory);
        return new LabControl(full, LabStateStore.Load(full));
    }

    /// <summary>
    /// Creates the network, starts the members and waits for a leader. If anything fails or
    /// <paramref name="cancellation"/> fires, everything created so far is removed before the error surfaces.
    /// </summary>
    /// <param name="options">What to create.</param>
    /// <param name="progress">Receives one line per step.</param>
    /// <param name="cancellation">Ctrl-C.</param>
    /// <returns>The running lab.</returns>
    public static async Task<LabControl> UpAsync(LabOptions options, TextWriter progress, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        Prerequisites.Require();
        var directory = Path.GetFullPath(options.Directory);
        if (LabStateStore.TryLoad(directory) is not null)
            throw new LabException($"a lab is already up in {directory}; run `kvorum lab down` first");
        if (options.Nodes < 1 || options.Learners < 0)
            throw new LabException($"a lab needs at least one voter and no negative count of learners, got {options.Nodes} and {options.Learners}");
        var members = options.Nodes + options.Learners;
        var layout = LabLayout.Create(options.Prefix, options.Subnet, members, directory);
        NetworkBuilder.CheckFree(layout);

        var state = new LabState
        {
            Prefix = options.Prefix,
            Subnet = options.Subnet,
            Nodes = members,
            Learners = options.Learners,
            ServerCommand = options.ServerCommand,
            Serve = options.Serve,
            Pace = options.Pace,
            Tls = options.Tls,
            Pids = new int[members],
        };
        System.IO.Directory.CreateDirectory(directory);
        foreach (var node in layout.Nodes)
        {
            // A fresh cluster: old data of an earlier lab in this directory would not match the new token's ids.
            if (System.IO.Directory.Exists(node.DataDir))
                System.IO.Directory.Delete(node.DataDir, recursive: true);
            File.Delete(node.LogFile);
        }

        if (options.Tls)
            LabTls.Create(layout);
        LabStateStore.Save(directory, state);
        var lab = new LabControl(directory, state);
        try
        {
            await progress.WriteLineAsync($"bridge {layout.Bridge} with host address {layout.HostAddress}/{layout.PrefixLength}").ConfigureAwait(false);
            NetworkBuilder.CreateBridge(layout);
            foreach (var node in layout.Nodes)
            {
                cancellation.ThrowIfCancellationRequested();
                NetworkBuilder.CreateNode(layout, node);
                await progress.WriteLineAsync($"namespace {node.Namespace}: {node.Address} on {layout.Bridge} via {node.HostVeth}").ConfigureAwait(false);
            }

            options.PeerDelay?.Route(layout);
            foreach (var node in layout.Nodes.Where(n => n.Number <= state.Voters))
            {
                cancellation.ThrowIfCancellationRequested();
                lab.StartNode(node.Number);
                await progress.WriteLineAsync($"started {node.Name} (pid {state.Pids[node.Number - 1]}), client {node.ClientUrl}, log {node.LogFile}").ConfigureAwait(false);
            }

            await progress.WriteLineAsync("waiting for a leader...").ConfigureAwait(false);
            (var leader, var took) = await lab.WaitForLeaderAsync(options.LeaderTimeout, cancellation).ConfigureAwait(false);
            if (options.Learners > 0)
                (leader, took) = await lab.AddLearnersAsync(leader, took, options.LeaderTimeout, progress, cancellation).ConfigureAwait(false);
            await progress.WriteLineAsync($"n{leader} leads after {took.TotalSeconds:0.0} s; endpoints {string.Join(',', layout.Nodes.Select(n => $"{n.Address}:{LabLayout.ClientPort}"))}").ConfigureAwait(false);
            return lab;
        }
        catch (Exception e)
        {
            await progress.WriteLineAsync(e is OperationCanceledException ? "interrupted; removing what was created" : $"up failed ({e.Message}); removing what was created").ConfigureAwait(false);
            lab.Dispose();
            Down(directory, progress);
            throw;
        }
    }

    /// <summary>
    /// Removes every process, namespace, link, bridge and nft table of the lab in <paramref name="directory"/>,
    /// then the state file. Safe to run again: with no lab up it removes nothing.
    /// </summary>
    /// <param name="directory">The lab directory.</param>
    /// <param name="progress">Receives what was removed.</param>
    /// <param name="keepData">Keep data dirs and logs.</param>
    /// <returns>The number of things removed.</returns>
    public static int Down(string directory, TextWriter progress, bool keepData = true)
    {
        ArgumentNullException.ThrowIfNull(progress);
        Prerequisites.Require();
        var full = Path.GetFullPath(directory);
        var state = LabStateStore.TryLoad(full);
        if (state is null)
        {
            progress.WriteLine($"no lab is up in {full}; nothing to remove");
            return 0;
        }

        var layout = state.Layout(full);
        var removed = 0;
        if (Viewing.LabViewProcess.Stop(full) is > 0 and var viewPid)
        {
            progress.WriteLine($"stopped the view (pid {viewPid})");
        }

        foreach ((var pid, var node) in state.Pids.Zip(layout.Nodes))
        {
            if (pid > 0 && IsOurs(pid, node) && ProcessSignals.Send(pid, ProcessSignals.Kill))
            {
                WaitGone(pid, TimeSpan.FromSeconds(5));
                progress.WriteLine($"killed {node.Name} (pid {pid})");
                removed++;
            }
        }

        foreach (var thing in NetworkBuilder.Destroy(layout))
        {
            progress.WriteLine($"removed {thing}");
            removed++;
        }

        if (!keepData)
        {
            foreach (var node in layout.Nodes)
            {
                if (System.IO.Directory.Exists(node.DataDir))
                    System.IO.Directory.Delete(node.DataDir, recursive: true);
            }
        }

        LabStateStore.Delete(full);
        progress.WriteLine($"lab down; {(keepData ? "logs and data kept" : "logs kept")} in {full}");
        return removed;
    }

    /// <summary>Waits until every running, unpaused member agrees on one leader.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellation">Cancels the wait.</param>
    /// <returns>The leader's node number and how long it took.</returns>
    /// <exception cref="LabException">No leader within <paramref name="timeout"/>.</exception>
    public async Task<(int Leader, TimeSpan Took)> WaitForLeaderAsync(TimeSpan timeout, CancellationToken cancellation)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var leader = await AgreedLeaderAsync(cancellation).ConfigureAwait(false);
            if (leader is { } l)
                return (l, clock.Elapsed);
            await Task.Delay(100, cancellation).ConfigureAwait(false);
        }

        throw new LabException($"no leader after {timeout.TotalSeconds:0} s; see the logs in {Directory}");
    }

    /// <summary>The node every live member names as leader, or null when they do not agree (or none leads).</summary>
    /// <param name="cancellation">Cancels the calls.</param>
    /// <returns>The leader's node number or null.</returns>
    public async Task<int?> AgreedLeaderAsync(CancellationToken cancellation)
    {
        int[] live = [.. Layout.Nodes.Where(n => IsRunning(n.Number)).Select(n => n.Number)];
        var statuses = await Task.WhenAll(live.Select(n => Client.StatusAsync(n, StatusDeadline, cancellation))).ConfigureAwait(false);
        if (statuses.Length == 0 || statuses.Any(s => s is null || s.Leader == 0))
            return null;
        var leader = statuses[0]!.Leader;
        if (statuses.Any(s => s!.Leader != leader))
            return null;
        var index = Array.FindIndex(statuses, s => s!.MemberId == leader);
        return index < 0 ? null : live[index];
    }

    /// <summary>
    /// Adds each learner through the leader, then starts it (as etcd's <c>member add</c> tells an operator to), and
    /// waits until every member, the learners included, follows one leader.
    /// </summary>
    private async Task<(int Leader, TimeSpan Took)> AddLearnersAsync(int leader, TimeSpan took, TimeSpan timeout, TextWriter progress, CancellationToken cancellation)
    {
        foreach (var node in Layout.Nodes.Where(n => n.Number > _state.Voters))
        {
            cancellation.ThrowIfCancellationRequested();
            ulong id;
            // The members' strict reconfiguration check (as etcd's) refuses an add until the leader has been connected
            // to every voter for 5 s, which a lab just up has not: ask again, as an operator would, for up to 15 s.
            var until = DateTime.UtcNow.AddSeconds(15);
            while (true)
            {
                try
                {
                    id = await Client.AddLearnerAsync(leader, node, TimeSpan.FromSeconds(10), cancellation).ConfigureAwait(false);
                    break;
                }
                catch (Grpc.Core.RpcException e) when (Kvorum.Etcd.Errors.EtcdErrors.Unhealthy.Matches(e) && DateTime.UtcNow < until)
                {
                    await Task.Delay(500, cancellation).ConfigureAwait(false);
                }
                catch (Grpc.Core.RpcException e)
                {
                    throw new LabException($"could not add {node.Name} as a learner through n{leader}: {e.Status.Detail}", e);
                }
            }

            StartNode(node.Number);
            await progress.WriteLineAsync($"added {node.Name} as a learner (member {id:x}) and started it (pid {_state.Pids[node.Number - 1]}), client {node.ClientUrl}, log {node.LogFile}").ConfigureAwait(false);
        }

        (var agreed, var more) = await WaitForLeaderAsync(timeout, cancellation).ConfigureAwait(false);
        return (agreed, took + more);
    }

    /// <inheritdoc/>
    public void Dispose() => Client.Dispose();
}
