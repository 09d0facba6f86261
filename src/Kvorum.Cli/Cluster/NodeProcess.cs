using System.Diagnostics;

namespace Kvorum.Cli.Cluster;

/// <summary>
/// One <c>kvorum serve</c> child of <c>kvorum cluster up</c>: started from this same executable, its stdout and
/// stderr appended to the member's log file, stopped with SIGTERM and killed if it has not exited in time.
/// </summary>
internal sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logGate = new();
    private bool _disposed;

    private NodeProcess(LocalMember member, Process process, StreamWriter log)
    {
        Member = member;
        _process = process;
        _log = log;
    }

    /// <summary>The member this process runs.</summary>
    public LocalMember Member { get; }

    /// <summary>The exit code once the process has exited; null while it runs.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Starts the member.</summary>
    /// <param name="member">The member.</param>
    /// <param name="arguments">Its <c>serve ...</c> arguments.</param>
    /// <param name="command">How to run kvorum (program and leading arguments); null for this same executable.</param>
    /// <returns>The running process.</returns>
    public static NodeProcess Start(LocalMember member, IReadOnlyList<string> arguments, IReadOnlyList<string>? command = null)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(arguments);
        var start = command is null ? SelfInvocation() : new ProcessStartInfo(command[0]);
        foreach (var argument in command?.Skip(1) ?? [])
            start.ArgumentList.Add(argument);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = false;
        start.UseShellExecute = false;

        var log = new StreamWriter(new FileStream(member.LogFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        log.WriteLine($"--- {DateTimeOffset.Now:O} kvorum {string.Join(' ', arguments)}");
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var node = new NodeProcess(member, process, log);
        process.OutputDataReceived += (_, e) => node.Append(e.Data);
        process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>
    /// How to run this same program again: the apphost itself, or <c>dotnet kvorum.dll</c> when this process is
    /// the dotnet host (<c>dotnet run</c>, <c>dotnet kvorum.dll</c>).
    /// </summary>
    /// <returns>A start info with the file name set and, for the dotnet host, the dll as first argument.</returns>
    public static ProcessStartInfo SelfInvocation()
    {
        var host = Environment.ProcessPath ?? throw new CommandFailedException("kvorum cluster up: cannot tell which executable is running");
        var start = new ProcessStartInfo(host);
        var hostName = Path.GetFileNameWithoutExtension(host);
        if (hostName.Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            start.ArgumentList.Add(typeof(NodeProcess).Assembly.Location);
        return start;
    }

    /// <summary>Sends SIGTERM, waits up to <paramref name="grace"/>, then kills the process.</summary>
    /// <param name="grace">How long to wait for a clean exit.</param>
    /// <returns>True when the process exited by itself within the grace period.</returns>
    public async Task<bool> StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
            return true;
        if (OperatingSystem.IsWindows())
            _process.Kill(entireProcessTree: true);
        else
            _ = NativeMethods.Kill(_process.Id, NativeMethods.SigTerm);

        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>SIGKILLs the process (it keeps only what it fsynced) and waits until it has exited.</summary>
    public void Kill()
    {
        if (_process.HasExited)
            return;
        _process.Kill();
        _process.WaitForExit();
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_logGate)
        {
            if (!_disposed)
                _log.WriteLine(line);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _process.Dispose();
        lock (_logGate)
        {
            _disposed = true;
            _log.Dispose();
        }
    }
}
