using System.Diagnostics;
using System.Text;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A long-running client command in a process of its own, <c>etcdctl</c> or <c>kvorum</c> (the kvorum.dll built next
/// to the tests): its output is collected as it comes, a test can wait for a piece of it, write to its stdin,
/// interrupt it with SIGINT or SIGTERM as a user would, and wait for its exit code. Killed on dispose.
/// </summary>
internal sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();

    private CliProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(_out, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_err, e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The two command-line clients the parity tests compare.</summary>
    public static readonly TheoryData<string> Tools = new() { "etcdctl", "kvorum" };

    /// <summary>Starts <paramref name="tool"/> (<c>etcdctl</c> or <c>kvorum</c>) against <paramref name="endpoint"/>.</summary>
    public static CliProcess Start(string tool, string endpoint, bool stdin, params string[] args) =>
        Start(tool, endpoint, stdin, new Dictionary<string, string>(), args);

    /// <summary>Starts <paramref name="tool"/> with <paramref name="environment"/> added to its environment.</summary>
    public static CliProcess Start(string tool, string endpoint, bool stdin, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        // Started through `env --default-signal=INT`: a test run launched in the background of a script (as CI may
        // launch it) inherits SIGINT ignored, and .NET, unlike Go, keeps an ignored SIGINT ignored, so the kvorum
        // process would never see the Ctrl-C a test sends. A user's Ctrl-C reaches a foreground command with SIGINT
        // at its default, which is what this restores.
        var start = new ProcessStartInfo("env");
        start.ArgumentList.Add("--default-signal=INT");
        if (tool == "etcdctl")
        {
            start.ArgumentList.Add(Etcdctl.Path!);
            start.Environment["ETCDCTL_API"] = "3";
        }
        else
        {
            start.ArgumentList.Add("dotnet");
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kvorum.dll"));
        }
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = stdin;
        start.UseShellExecute = false;
        start.ArgumentList.Add("--endpoints=" + endpoint);
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        return new CliProcess(new Process { StartInfo = start });
    }

    /// <summary>Runs <paramref name="tool"/> to its end and returns its exit code and output.</summary>
    public static Task<(int Code, string Out, string Err)> RunAsync(string tool, string endpoint, params string[] args) =>
        RunAsync(tool, endpoint, new Dictionary<string, string>(), args);

    /// <summary>Runs <paramref name="tool"/> with <paramref name="environment"/> added to its environment to its end.</summary>
    public static async Task<(int Code, string Out, string Err)> RunAsync(string tool, string endpoint, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        await using var process = Start(tool, endpoint, stdin: false, environment, args);
        var code = await process.ExitAsync(TimeSpan.FromSeconds(60));
        return (code, process.Out, process.Err);
    }

    /// <summary>Standard output so far, lines ended by <c>\n</c>.</summary>
    public string Out
    {
        get
        {
            lock (_out)
                return _out.ToString();
        }
    }

    /// <summary>Standard error so far.</summary>
    public string Err
    {
        get
        {
            lock (_err)
                return _err.ToString();
        }
    }

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Waits until standard output satisfies <paramref name="condition"/>; fails the test with the output after <paramref name="timeout"/>.</summary>
    public async Task WaitForOutputAsync(Func<string, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(Out))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no {what} after {timeout.TotalSeconds} s; stdout: {Out}; stderr: {Err}");
            await Task.Delay(50);
        }
    }

    /// <summary>Writes a line to standard input.</summary>
    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteAsync(line + "\n");
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Closes standard input.</summary>
    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Sends SIGINT (Ctrl-C), or SIGTERM with <paramref name="terminate"/>.</summary>
    public async Task SignalAsync(bool terminate = false)
    {
        using var kill = Process.Start("kill", [terminate ? "-TERM" : "-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    /// <summary>Waits for the process to end and returns its exit code, once its output is all read.</summary>
    public async Task<int> ExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        // The parameterless wait also waits for the end of the redirected streams.
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
            return;
        lock (text)
            text.Append(line).Append('\n');
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
