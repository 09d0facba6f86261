using System.Diagnostics;
using Kvorum.Lab.Host;
using Kvorum.Lab.State;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab.Nodes;

/// <summary>
/// Starts a member inside its namespace as <c>setsid ip netns exec NS kvorum serve ...</c>, detached from the
/// lab command (its own session, output appended to the node's log file), so it outlives <c>kvorum lab up</c>
/// and Ctrl-C at the terminal does not reach it. <c>ip netns exec</c> and <c>setsid</c> exec in place, so the
/// pid returned is the server's.
/// </summary>
public static class NodeLauncher
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
        foreach (string argument in (string[])["-c", "log=$1; shift; exec \"$@\" >>\"$log\" 2>&1 </dev/null", "sh", node.LogFile, "setsid", "ip", "netns", "exec", node.Namespace])
            start.ArgumentList.Add(argument);
        foreach (string argument in state.ServerCommand.Concat(ServeArguments(state, layout, node)))
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start) ?? throw new LabException($"could not start {node.Name}");
        return process.Id;
    }

    /// <summary>The <c>serve</c> arguments of <paramref name="node"/>; the same on every start.</summary>
    /// <param name="state">The lab state.</param>
    /// <param name="layout">The lab.</param>
    /// <param name="node">The node.</param>
    /// <returns>The arguments, starting with <c>serve</c>.</returns>
    public static IReadOnlyList<string> ServeArguments(LabState state, LabLayout layout, NodeLayout node)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(node);
        string client = Authority(node.ClientUrl);
        string peer = Authority(node.PeerUrl);
        return
        [
            "serve",
            "--name", node.Name,
            "--data-dir", node.DataDir,
            // Loopback too, so `kvorum lab exec N -- etcdctl ...` works with etcdctl's default endpoint.
            "--listen-client-urls", $"{client},http://127.0.0.1:{LabLayout.ClientPort}",
            "--advertise-client-urls", client,
            "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer,
            "--listen-metrics-urls", Authority(node.MetricsUrl),
            "--initial-cluster", string.Join(',', layout.Nodes.Select(n => $"{n.Name}={Authority(n.PeerUrl)}")),
            "--initial-cluster-token", ClusterToken,
            "--initial-cluster-state", "new",
            .. state.ServeFlags,
        ];
    }

    private static string Authority(Uri url) => url.GetLeftPart(UriPartial.Authority);
}
