using System.Diagnostics;
using System.Globalization;
using Kvorum.Lab.Host;

namespace Kvorum.Lab.Viewing;

/// <summary>
/// The view that <c>kvorum lab up</c> leaves running beside the lab (<c>kvorum lab view</c>, detached as the members
/// are, output in <c>view.log</c>): it records its pid and URL in <c>view.url</c> once it listens, and
/// <c>kvorum lab down</c> stops it.
/// </summary>
internal static class LabViewProcess
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    /// <summary>The file holding the running view's pid and URL, one per line.</summary>
    /// <param name="directory">The lab directory.</param>
    /// <returns>Its path.</returns>
    public static string RecordPath(string directory) => Path.Combine(directory, "view.url");

    /// <summary>The view's log file.</summary>
    /// <param name="directory">The lab directory.</param>
    /// <returns>Its path.</returns>
    public static string LogPath(string directory) => Path.Combine(directory, "view.log");

    /// <summary>Written by the view once it listens: this process's pid and <paramref name="url"/>.</summary>
    /// <param name="directory">The lab directory.</param>
    /// <param name="url">The page's address.</param>
    public static void Record(string directory, Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var temp = RecordPath(directory) + ".tmp";
        File.WriteAllText(temp, string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}\n{url}\n"));
        File.Move(temp, RecordPath(directory), overwrite: true);
    }

    /// <summary>Removes the record when it is this process's own (a newer view may have replaced it).</summary>
    /// <param name="directory">The lab directory.</param>
    public static void Forget(string directory)
    {
        if (Read(directory) is { } running && running.Pid == Environment.ProcessId)
            File.Delete(RecordPath(directory));
    }

    /// <summary>The recorded view, or null when none is recorded.</summary>
    /// <param name="directory">The lab directory.</param>
    /// <returns>Its pid and URL.</returns>
    public static (int Pid, Uri Url)? Read(string directory)
    {
        try
        {
            var lines = File.ReadAllLines(RecordPath(directory));
            return lines.Length >= 2 && int.TryParse(lines[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Uri.TryCreate(lines[1], UriKind.Absolute, out var url)
                ? (pid, url)
                : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Starts <c>kvorum lab view</c> for the lab in <paramref name="directory"/>, detached, and waits until it records
    /// its URL or gives up.
    /// </summary>
    /// <param name="serverCommand">How to run kvorum (program and leading arguments).</param>
    /// <param name="directory">The lab directory.</param>
    /// <param name="listen">The page's address, <c>HOST:PORT</c>.</param>
    /// <param name="timeout">How long to wait for it to listen.</param>
    /// <returns>The page's URL, or the view's last words when it did not come up.</returns>
    public static (Uri? Url, string Why) Start(IReadOnlyList<string> serverCommand, string directory, string listen, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(serverCommand);
        File.Delete(RecordPath(directory));
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var argument in (string[])["-c", "log=$1; shift; exec \"$@\" >>\"$log\" 2>&1 </dev/null", "sh", LogPath(directory), "setsid"])
            start.ArgumentList.Add(argument);
        foreach (var argument in serverCommand.Concat(["lab", "view", "--dir", directory, "--listen", listen]))
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new LabException("could not start the view");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (Read(directory) is { } running)
                return (running.Url, "");
            if (ProcessSignals.HasExited(process.Id))
                break;
            Thread.Sleep(50);
        }

        var log = File.Exists(LogPath(directory)) ? File.ReadLines(LogPath(directory)).LastOrDefault(l => l.Length > 0) : null;
        return (null, log ?? "it did not start in time");
    }

    /// <summary>Stops the recorded view (SIGTERM, then SIGKILL), when it still runs.</summary>
    /// <param name="directory">The lab directory.</param>
    /// <returns>The pid stopped, or 0 when none ran.</returns>
    public static int Stop(string directory)
    {
        if (Read(directory) is not { } running)
            return 0;
        File.Delete(RecordPath(directory));
        if (!IsView(running.Pid, directory))
            return 0;
        ProcessSignals.Send(running.Pid, ProcessSignals.Terminate);
        var clock = Stopwatch.StartNew();
        while (!ProcessSignals.HasExited(running.Pid))
        {
            if (clock.Elapsed > StopGrace)
            {
                ProcessSignals.Send(running.Pid, ProcessSignals.Kill);
                break;
            }

            Thread.Sleep(20);
        }

        return running.Pid;
    }

    // Pids are reused: the recorded one is ours only while it runs `lab view` for this directory.
    private static bool IsView(int pid, string directory)
    {
        if (!ProcessSignals.IsAlive(pid))
            return false;
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            return cmdline.Contains("lab\0view\0", StringComparison.Ordinal) && cmdline.Contains(directory + "\0", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
