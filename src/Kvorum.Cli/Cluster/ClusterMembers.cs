namespace Kvorum.Cli.Cluster;

/// <summary>
/// The member processes of <c>kvorum cluster up</c>, one slot per member: started together, stopped together, and in
/// between killed (SIGKILL) and started again one at a time from the view's page (<see cref="ClusterViewControls"/>).
/// A member started again runs with the arguments it first ran with; its data dir holds its state, so the
/// initial-cluster flags are ignored and it rejoins as itself. The slots are read by the status loop and changed by
/// the page's requests, so each access holds the lock.
/// </summary>
internal sealed class ClusterMembers
{
    private readonly Lock _gate = new();
    private readonly NodeProcess[] _processes;
    private readonly IReadOnlyList<string>[] _arguments;
    private readonly bool[] _killedHere;
    private readonly IReadOnlyList<string>? _command;

    private ClusterMembers(IReadOnlyList<LocalMember> members, Func<LocalMember, IReadOnlyList<string>> arguments, IReadOnlyList<string>? command)
    {
        Members = members;
        _command = command;
        _arguments = [.. members.Select(arguments)];
        _killedHere = new bool[members.Count];
        _processes = new NodeProcess[members.Count];
    }

    /// <summary>The members, in order: member N is <c>Members[N - 1]</c>.</summary>
    public IReadOnlyList<LocalMember> Members { get; }

    /// <summary>Each member's current process, in member order.</summary>
    public IReadOnlyList<NodeProcess> Processes
    {
        get
        {
            lock (_gate)
                return [.. _processes];
        }
    }

    /// <summary>True while some member is down because the page killed it (so the cluster did not fail by itself).</summary>
    public bool AnyKilledHere
    {
        get
        {
            lock (_gate)
                return _killedHere.Any(k => k);
        }
    }

    /// <summary>Starts every member.</summary>
    /// <param name="members">The members.</param>
    /// <param name="arguments">Each member's <c>serve …</c> arguments.</param>
    /// <param name="command">How to run kvorum (program and leading arguments); null for this same executable.</param>
    /// <returns>The running members.</returns>
    public static ClusterMembers Start(IReadOnlyList<LocalMember> members, Func<LocalMember, IReadOnlyList<string>> arguments, IReadOnlyList<string>? command = null)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(arguments);
        var started = new ClusterMembers(members, arguments, command);
        for (var i = 0; i < members.Count; i++)
            started._processes[i] = NodeProcess.Start(members[i], started._arguments[i], command);
        return started;
    }

    /// <summary>SIGKILLs member <paramref name="number"/> and waits until it is gone.</summary>
    /// <param name="number">1..N.</param>
    /// <returns>What the page shows.</returns>
    /// <exception cref="CommandFailedException">No such member, or it is not running.</exception>
    public string Kill(int number)
    {
        lock (_gate)
        {
            var process = _processes[Index(number)];
            if (process.ExitCode is not null)
                throw new CommandFailedException($"{process.Member.Name} is not running");
            process.Kill();
            _killedHere[number - 1] = true;
            return $"{process.Member.Name}: killed";
        }
    }

    /// <summary>Starts member <paramref name="number"/> again from its data dir.</summary>
    /// <param name="number">1..N.</param>
    /// <returns>What the page shows.</returns>
    /// <exception cref="CommandFailedException">No such member, or it is running.</exception>
    public string Start(int number)
    {
        lock (_gate)
        {
            var index = Index(number);
            var old = _processes[index];
            if (old.ExitCode is null)
                throw new CommandFailedException($"{old.Member.Name} is already running (pid {old.Id})");
            var started = NodeProcess.Start(old.Member, _arguments[index], _command);
            _processes[index] = started;
            _killedHere[index] = false;
            old.Dispose();
            return $"{started.Member.Name}: started (pid {started.Id})";
        }
    }

    private int Index(int number) =>
        number >= 1 && number <= _processes.Length ? number - 1
            : throw new CommandFailedException($"no member {number}: the cluster has members 1..{_processes.Length}");
}
