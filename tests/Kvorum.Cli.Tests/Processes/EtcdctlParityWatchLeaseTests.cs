using System.Globalization;
using System.Text.RegularExpressions;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// <c>kvorum watch</c>, <c>lease</c>, <c>lock</c> and <c>elect</c> against etcd's own <c>etcdctl</c>. The scripted
/// tests give two fresh servers the same commands, etcdctl's to one and kvorum's to the other, and compare what
/// each prints once the names that must differ (cluster, member and lease ids) are replaced by placeholders; the
/// scenario tests (lock, elect) run the same scenario with each tool and hold both to the same expectations.
/// The server is a parameter (<see cref="StartServerAsync"/>): <see cref="EtcdctlParityWatchLeaseOnEtcdTests"/> runs
/// the tests on etcd; a subclass returning a Kvorum cluster runs the same tests on Kvorum.
/// </summary>
public abstract partial class EtcdctlParityWatchLeaseTests
{
    /// <summary>How long a step may take before the test fails: generous, for a loaded machine.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Starts a fresh server for one side of a test (skips the test if the server cannot be run here).</summary>
    private protected abstract Task<IParityServer> StartServerAsync();

    /// <summary>
    /// Starts the two fresh servers of a scripted test at once, one for each side; if either cannot start, the other
    /// is stopped.
    /// </summary>
    private protected async Task<(IParityServer ForEtcdctl, IParityServer ForKvorum)> StartTwoServersAsync()
    {
        Task<IParityServer>[] starting = [StartServerAsync(), StartServerAsync()];
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
                await started.Result.DisposeAsync();
            throw;
        }
        return (starting[0].Result, starting[1].Result);
    }

    /// <summary>Runs a command that ends by itself: etcdctl as a process, kvorum in process.</summary>
    private static async Task<(int Code, string Out, string Err)> RunAsync(string tool, IParityServer server, params string[] args) =>
        tool == "etcdctl"
            ? await Etcdctl.RunAsync(server.ClientUrl, null, args)
            : await new CliRun().RunAsync(["--endpoints", server.ClientUrl, .. args]);

    /// <summary>Awaits one command on each side, both already running, and returns both results.</summary>
    private static async Task<(T Expected, T Actual)> BothAsync<T>(Task<T> expected, Task<T> actual)
    {
        await Task.WhenAll(expected, actual);
        return (await expected, await actual);
    }

    /// <summary>The last <c>Error:</c> line (etcdctl also logs its client's retries to stderr).</summary>
    private static string? ErrorLine(string stderr) =>
        stderr.Split('\n').LastOrDefault(l => l.StartsWith("Error:", StringComparison.Ordinal))?.Trim();

    /// <summary>The lines of stderr a user reads, without etcdctl's client log lines (JSON).</summary>
    private static string UserLines(string stderr) =>
        string.Join('\n', stderr.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('{')));

    private static string Replace(string output, IEnumerable<(string Value, string Placeholder)> names)
    {
        foreach (var (value, placeholder) in names.OrderByDescending(n => n.Value.Length))
            output = output.Replace(value, placeholder, StringComparison.Ordinal);
        return output;
    }

    private static string Show(string text) => text.Replace("\n", "⏎", StringComparison.Ordinal);

    /// <summary>A lease id in the forms output shows it: hex (<c>%016x</c>, and <c>%x</c> in lock and election keys) and decimal (JSON).</summary>
    private static IEnumerable<(string Value, string Placeholder)> LeaseNames(string name, long id) =>
    [
        (id.ToString("x16", CultureInfo.InvariantCulture), name),
        (id.ToString("x", CultureInfo.InvariantCulture), name),
        (id.ToString(CultureInfo.InvariantCulture), name + "-DEC"),
    ];

    /// <summary>The lease id a grant printed, in simple or JSON form.</summary>
    private static long GrantedId(string output)
    {
        var simple = Regex.Match(output, "lease ([0-9a-f]{16}) granted");
        if (simple.Success)
            return long.Parse(simple.Groups[1].Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        return long.Parse(Regex.Match(output, "\"ID\":(-?[0-9]+)").Groups[1].Value, CultureInfo.InvariantCulture);
    }
}

/// <summary>The watch, lease, lock and elect parity tests on a one-member etcd.</summary>
public sealed class EtcdctlParityWatchLeaseOnEtcdTests : EtcdctlParityWatchLeaseTests
{
    private protected override Task<IParityServer> StartServerAsync() => EtcdParityServer.StartAsync();
}

/// <summary>
/// The same tests on a one-member Kvorum: etcdctl and kvorum against Kvorum must print what they print against etcd.
/// </summary>
public sealed class EtcdctlParityWatchLeaseOnKvorumTests : EtcdctlParityWatchLeaseTests
{
    private protected override Task<IParityServer> StartServerAsync() => KvorumParityServer.StartAsync();
}
