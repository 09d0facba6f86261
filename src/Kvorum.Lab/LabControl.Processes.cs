using Kvorum.Lab.Host;
using Kvorum.Lab.Nodes;
using Kvorum.Lab.State;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab;

/// <summary>The member processes: start, kill (SIGKILL), stop (SIGTERM), pause (SIGSTOP), resume (SIGCONT).</summary>
internal sealed partial class LabControl
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    /// <summary>The pid of node <paramref name="node"/>'s server, or 0 when it is not running.</summary>
    /// <param name="node">The node number.</param>
    /// <returns>The pid or 0.</returns>
    public int Pid(int node)
    {
        var layout = Layout.Node(node);
        var pid = _state.Pids[node - 1];
        return pid > 0 && IsOurs(pid, layout) ? pid : 0;
    }

    /// <summary>True when node <paramref name="node"/>'s server runs and is not paused.</summary>
    /// <param name="node">The node number.</param>
    /// <returns>Whether it can answer.</returns>
    public bool IsRunning(int node) => Pid(node) is > 0 and var pid && !ProcessSignals.IsPaused(pid);

    /// <summary>True when node <paramref name="node"/>'s server is paused.</summary>
    /// <param name="node">The node number.</param>
    /// <returns>Whether it is stopped by SIGSTOP.</returns>
    public bool IsPaused(int node) => Pid(node) is > 0 and var pid && ProcessSignals.IsPaused(pid);

    /// <summary>Starts node <paramref name="node"/>'s server with its data dir as it is.</summary>
    /// <param name="node">The node number.</param>
    /// <exception cref="LabException">It is already running.</exception>
    public int StartNode(int node)
    {
        var layout = Layout.Node(node);
        if (Pid(node) > 0)
            throw new LabException($"{layout.Name} is already running (pid {Pid(node)})");
        var pid = NodeLauncher.Start(_state, Layout, layout);
        _state.Pids[node - 1] = pid;
        LabStateStore.Save(Directory, _state);
        return pid;
    }

    /// <summary>
    /// The <c>serve</c> arguments node <paramref name="node"/> starts with (<see cref="NodeLauncher.Serve"/>): under
    /// <c>--tls</c> its URLs are https, so a data directory made for it must name them so too.
    /// </summary>
    /// <param name="node">The node number.</param>
    /// <returns>Its name, data directory, URLs, initial cluster, token and the lab's shared settings.</returns>
    public Kvorum.Etcd.Serve.ServeArguments ServeArguments(int node) => NodeLauncher.Serve(_state, Layout, Layout.Node(node));

    /// <summary>Sends SIGKILL to node <paramref name="node"/>: it ends at once, keeping only what it fsynced.</summary>
    /// <param name="node">The node number.</param>
    /// <exception cref="LabException">It is not running.</exception>
    public void Kill(int node)
    {
        var pid = RequirePid(node);
        ProcessSignals.Send(pid, ProcessSignals.Kill);
        WaitGone(pid, TimeSpan.FromSeconds(5));
        _state.Pids[node - 1] = 0;
        LabStateStore.Save(Directory, _state);
    }

    /// <summary>Sends SIGTERM to node <paramref name="node"/> and waits for it to exit (SIGKILL after 10 s).</summary>
    /// <param name="node">The node number.</param>
    /// <returns>True when it exited by itself.</returns>
    /// <exception cref="LabException">It is not running.</exception>
    public bool Stop(int node)
    {
        var pid = RequirePid(node);
        if (ProcessSignals.IsPaused(pid))
            ProcessSignals.Send(pid, ProcessSignals.Continue);
        ProcessSignals.Send(pid, ProcessSignals.Terminate);
        var clean = WaitGone(pid, StopGrace);
        if (!clean)
        {
            ProcessSignals.Send(pid, ProcessSignals.Kill);
            WaitGone(pid, TimeSpan.FromSeconds(5));
        }

        _state.Pids[node - 1] = 0;
        LabStateStore.Save(Directory, _state);
        return clean;
    }

    /// <summary>Freezes node <paramref name="node"/> with SIGSTOP: it keeps its sockets but answers nothing.</summary>
    /// <param name="node">The node number.</param>
    /// <exception cref="LabException">It is not running.</exception>
    public void Pause(int node)
    {
        var pid = RequirePid(node);
        ProcessSignals.Send(pid, ProcessSignals.Stop);
        WaitFor(() => ProcessSignals.IsPaused(pid));
    }

    /// <summary>Resumes node <paramref name="node"/> with SIGCONT.</summary>
    /// <param name="node">The node number.</param>
    /// <exception cref="LabException">It is not running.</exception>
    public void Resume(int node)
    {
        var pid = RequirePid(node);
        ProcessSignals.Send(pid, ProcessSignals.Continue);
        WaitFor(() => !ProcessSignals.IsPaused(pid));
    }

    /// <summary>Runs <paramref name="command"/> inside node <paramref name="node"/>'s namespace with this terminal.</summary>
    /// <param name="node">The node number.</param>
    /// <param name="command">The program and its arguments.</param>
    /// <returns>Its exit code.</returns>
    public int Exec(int node, IReadOnlyList<string> command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.Count == 0)
            throw new LabException("exec needs a command after --, e.g. kvorum lab exec 1 -- etcdctl get foo");
        var start = new System.Diagnostics.ProcessStartInfo("ip") { UseShellExecute = false };
        foreach (var argument in new[] { "netns", "exec", Layout.Node(node).Namespace }.Concat(command))
            start.ArgumentList.Add(argument);
        using var process = System.Diagnostics.Process.Start(start) ?? throw new LabException("could not run ip netns exec");
        process.WaitForExit();
        return process.ExitCode;
    }

    private int RequirePid(int node)
    {
        var pid = Pid(node);
        return pid > 0 ? pid : throw new LabException($"{Layout.Node(node).Name} is not running; start it with `kvorum lab start {node}`");
    }

    // A pid is the node's server only while it lives inside the node's namespace: pids are reused.
    private static bool IsOurs(int pid, NodeLayout node)
    {
        if (!ProcessSignals.IsAlive(pid))
            return false;
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            return cmdline.Contains("serve\0", StringComparison.Ordinal) && cmdline.Contains(node.DataDir, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    // Signals reach a multi-threaded process asynchronously: wait (briefly) until its state shows them.
    private static void WaitFor(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition() && clock.Elapsed < TimeSpan.FromSeconds(2))
            Thread.Sleep(5);
    }

    private static bool WaitGone(int pid, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!ProcessSignals.HasExited(pid))
        {
            if (clock.Elapsed > timeout)
                return false;
            Thread.Sleep(20);
        }

        return true;
    }
}
