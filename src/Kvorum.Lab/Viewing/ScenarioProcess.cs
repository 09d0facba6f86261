using System.Diagnostics;
using System.Globalization;
using Kvorum.Lab.Host;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab.Viewing;

/// <summary>
/// A narrated scenario started from the view: <c>kvorum lab scenario NAME</c> as a child process (the same code path
/// as the command line), in a lab of its own beside the one that is up (<see cref="Place"/>), each output line handed
/// to the view as it is printed. Stopping it sends SIGTERM, which cancels the scenario and takes its lab down.
/// </summary>
internal sealed class ScenarioProcess : IDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(20);
    private readonly Process _process;

    private readonly int _pid;

    private ScenarioProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        _pid = process.Id;
    }

    /// <summary>The scenario's name.</summary>
    public string Name { get; }

    /// <summary>Completes with the exit code once the process has ended and its output is read.</summary>
    public Task<int> Exited { get; private set; } = Task.FromResult(0);

    /// <summary>
    /// Where the scenarios of the lab in <paramref name="directory"/> run: the <c>scenario</c> directory inside it,
    /// the next subnet of the same size and a prefix ending in <c>s</c>, so that both labs' names and addresses differ.
    /// </summary>
    /// <param name="directory">The lab directory.</param>
    /// <param name="prefix">The lab's prefix.</param>
    /// <param name="subnet">The lab's subnet.</param>
    /// <returns>The scenario lab's directory, prefix and subnet.</returns>
    public static (string Directory, string Prefix, string Subnet) Place(string directory, string prefix, string subnet)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var (network, length) = LabLayout.ParseSubnet(subnet);
        var bytes = network.GetAddressBytes();
        var value = ((uint)bytes[0] << 24 | (uint)bytes[1] << 16 | (uint)bytes[2] << 8 | bytes[3]) + (1u << (32 - length));
        var next = string.Create(CultureInfo.InvariantCulture, $"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}/{length}");
        var own = (prefix.Length < 8 ? prefix : prefix[..7]) + (prefix.EndsWith('s') ? "t" : "s");
        return (DirectoryOf(directory), own, next);
    }

    /// <summary>The directory of the scenarios' lab beside the lab in <paramref name="directory"/>.</summary>
    /// <param name="directory">The lab directory.</param>
    /// <returns>Its <c>scenario</c> subdirectory.</returns>
    public static string DirectoryOf(string directory) => Path.Combine(directory, "scenario");

    /// <summary>Starts <paramref name="arguments"/> (after <paramref name="serverCommand"/>), relaying each output line.</summary>
    /// <param name="name">The scenario's name.</param>
    /// <param name="serverCommand">How to run kvorum (program and leading arguments).</param>
    /// <param name="arguments">The <c>lab scenario</c> arguments.</param>
    /// <param name="line">Receives each line of output, stdout and stderr alike.</param>
    /// <returns>The running scenario.</returns>
    /// <exception cref="LabException">It could not be started.</exception>
    public static ScenarioProcess Start(string name, IReadOnlyList<string> serverCommand, IEnumerable<string> arguments, Action<string> line)
    {
        ArgumentNullException.ThrowIfNull(serverCommand);
        ArgumentNullException.ThrowIfNull(line);
        var start = new ProcessStartInfo(serverCommand[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in serverCommand.Skip(1).Concat(arguments))
            start.ArgumentList.Add(argument);
        var process = new Process { StartInfo = start };
        try
        {
            if (!process.Start())
                throw new LabException($"could not start scenario {name}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new LabException($"could not start scenario {name}: {e.Message}");
        }

        process.StandardInput.Close();
        var running = new ScenarioProcess(name, process);
        running.Exited = running.RelayAsync(line);
        return running;
    }

    private async Task<int> RelayAsync(Action<string> line)
    {
        async Task Copy(StreamReader reader)
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } text)
                line(text);
        }

        await Task.WhenAll(Copy(_process.StandardOutput), Copy(_process.StandardError)).ConfigureAwait(false);
        await _process.WaitForExitAsync().ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>Asks the scenario to stop (SIGTERM: it cancels and takes its lab down), and kills it when it lingers.</summary>
    /// <returns>Completes once it has ended.</returns>
    public async Task StopAsync()
    {
        // Exited completes only after the process is reaped, so until then the pid is still its own.
        if (!Exited.IsCompleted)
            ProcessSignals.Send(_pid, ProcessSignals.Terminate);
        if (await Task.WhenAny(Exited, Task.Delay(StopGrace)).ConfigureAwait(false) != Exited)
        {
            ProcessSignals.Send(_pid, ProcessSignals.Kill);
            await Exited.ConfigureAwait(false);
        }
    }

    /// <summary>Releases the process handle.</summary>
    public void Dispose() => _process.Dispose();
}
