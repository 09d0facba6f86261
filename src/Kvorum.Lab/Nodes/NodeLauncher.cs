using System.Diagnostics;
using Kvorum.Etcd.Serve;
using Kvorum.Lab.Host;
using Kvorum.Lab.State;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab.Nodes;

/// <summary>
/// Starts a member inside its namespace as <c>setsid ip netns exec NS kvorum serve ...</c>, detached from the
/// lab command (its own session, output appended to the node's log file), so it outlives <c>kvorum lab up</c>
/// and Ctrl-C at the terminal does not reach it. <c>ip netns exec</c> and <c>setsid</c> exec in place, so the
/// pid returned is the server's, once it has gone through them (<see cref="Start"/> waits for that).
/// </summary>
internal static class NodeLauncher
{
    /// <summary>The cluster token every lab member uses.</summary>
    public const string ClusterToken = "kvorum-lab";

    /// <summary>Starts node <paramref name="node"/> and returns its pid.</summary>
    /// <param name="state">The lab state (server command and flags).</param>
    /// <param name="layout">The lab.</param>
    /// <param name="node">The node.</param>
    /// <returns>The server's pid.</returns>
    public static int Start(LabState state, LabLayout layout, NodeLayout node)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(node);
        Directory.CreateDirectory(node.DataDir);
        File.AppendAllText(node.LogFile, $"--- {DateTimeOffset.Now:O} starting {node.Name} in {node.Namespace}\n");
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var argument in (string[])["-c", "log=$1; shift; exec \"$@\" >>\"$log\" 2>&1 </dev/null", "sh", node.LogFile, "setsid", "ip", "netns", "exec", node.Namespace])
            start.ArgumentList.Add(argument);
        foreach (var argument in state.ServerCommand.Concat(Serve(state, layout, node).ToArgs()))
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new LabException($"could not start {node.Name}");
        WaitUntilExecuted(process.Id, state.ServerCommand[0]);
        return process.Id;
    }

    /// <summary>
    /// Waits (up to 5 s) until <paramref name="pid"/> has gone through <c>sh</c>, <c>setsid</c> and <c>ip netns
    /// exec</c> and runs <paramref name="program"/>, or has exited. Until then a look at the pid could find it between
    /// two programs (its command line empty while one is replaced), and take a member that is starting for one that
    /// is not running: the lab would go on without waiting for it, and a fault aimed at it would fail.
    /// </summary>
    private static void WaitUntilExecuted(int pid, string program)
    {
        var clock = Stopwatch.StartNew();
        var expected = program + "\0";
        while (clock.Elapsed < TimeSpan.FromSeconds(5) && ProcessSignals.IsAlive(pid))
        {
            try
            {
                if (File.ReadAllText($"/proc/{pid}/cmdline").StartsWith(expected, StringComparison.Ordinal))
                    return;
            }
            catch (IOException)
            {
                return; // gone
            }
            Thread.Sleep(2);
        }
    }

    /// <summary>The <c>serve</c> arguments of <paramref name="node"/>; the same on every start.</summary>
    /// <param name="state">The lab state: the settings every member shares.</param>
    /// <param name="layout">The lab.</param>
    /// <param name="node">The node.</param>
    /// <returns>The shared settings with the node's name, directory, URLs and initial cluster.</returns>
    public static ServeArguments Serve(LabState state, LabLayout layout, NodeLayout node)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(node);
        var serve = state.Serve with
        {
            Name = node.Name,
            DataDir = node.DataDir,
            // Loopback too, so `kvorum lab exec N -- etcdctl ...` works with etcdctl's default endpoint.
            ListenClientUrls = [node.ClientUrl, new Uri($"http://127.0.0.1:{LabLayout.ClientPort}")],
            AdvertiseClientUrls = [node.ClientUrl],
            ListenPeerUrls = [node.PeerUrl],
            InitialAdvertisePeerUrls = [node.PeerUrl],
            ListenMetricsUrls = [node.MetricsUrl],
            InitialCluster = [.. InitialCluster(state, layout, node).Select(n => new InitialClusterMember(n.Name, n.PeerUrl))],
            InitialClusterToken = ClusterToken,
            JoinExistingCluster = IsLearner(state, node),
            // The member publishes the fault state the lab writes for it (Faults/MemberFaultFiles.cs).
            LabStateFile = Faults.MemberFaultFiles.PathOf(node),
        };
        // lab up --tls: https and mutual TLS on the client and peer ports (Nodes/LabTls.cs).
        return state.Tls ? LabTls.In(layout.Directory).Secure(serve, node) : serve;
    }

    /// <summary>True for a member that joins as a learner (one of the last <see cref="LabState.Learners"/>).</summary>
    /// <param name="state">The lab's state.</param>
    /// <param name="node">The member.</param>
    /// <returns>Whether it is a learner.</returns>
    public static bool IsLearner(LabState state, NodeLayout node)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(node);
        return node.Number > state.Voters;
    }

    // The voters bootstrap the cluster among themselves; a learner joins it as etcd's `member add` tells a new
    // member to: the members so far and itself, with --initial-cluster-state existing (a restart ignores both).
    private static IEnumerable<NodeLayout> InitialCluster(LabState state, LabLayout layout, NodeLayout node) =>
        IsLearner(state, node) ? layout.Nodes.Where(n => n.Number <= state.Voters || n.Number == node.Number) : layout.Nodes.Where(n => n.Number <= state.Voters);
}
