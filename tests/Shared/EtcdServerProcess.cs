using System.Diagnostics;
using System.Text;
namespace Kvorum.Tests.Shared;

/// <summary>
/// A one-member etcd (Debian package <c>etcd-server</c>, installed by .ci/run) on free loopback ports with a
/// temporary data directory: the reference the differential tests compare Kvorum (and its CLI) with. Killed and
/// deleted on dispose. Linked into each test project that needs it.
/// </summary>
internal sealed class EtcdServerProcess : IAsyncDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "kvorum-diff-etcd-" + Guid.NewGuid().ToString("N"));
    private readonly StringBuilder _output = new();
    private readonly Process _process;

    public static string? ExecutablePath => new[] { "/usr/bin/etcd", "/usr/local/bin/etcd" }.FirstOrDefault(File.Exists);

    /// <summary>Skips the test, saying why, when etcd is missing; in CI it must be there.</summary>
    public static void Require()
    {
        if (ExecutablePath is null && Environment.GetEnvironmentVariable("CI") == "true")
            throw new InvalidOperationException("etcd is required in CI (apt-get install etcd-server)");
        Skip.If(ExecutablePath is null, "etcd not installed: apt-get install etcd-server");
    }

    /// <summary>Starts etcd; <paramref name="freePort"/> is the test project's own allocator of loopback ports.</summary>
    /// <param name="freePort">Gives free loopback ports.</param>
    /// <param name="extraFlags">More etcd flags, after the usual ones (such as <c>--auth-token</c>).</param>
    public EtcdServerProcess(Func<int> freePort, params string[] extraFlags)
        : this("reference", $"http://127.0.0.1:{freePort()}", $"http://127.0.0.1:{freePort()}", null, extraFlags)
    {
    }

    /// <summary>
    /// Starts a cluster of <paramref name="size"/> etcd members (named <c>reference1</c>…) that bootstrap together,
    /// each with <paramref name="extraFlags"/>; dispose each.
    /// </summary>
    public static EtcdServerProcess[] Cluster(int size, Func<int> freePort, params string[] extraFlags)
    {
        ArgumentNullException.ThrowIfNull(freePort);
        var members = Enumerable.Range(1, size).Select(i => (Name: $"reference{i}", Client: $"http://127.0.0.1:{freePort()}", Peer: $"http://127.0.0.1:{freePort()}")).ToArray();
        var initial = string.Join(',', members.Select(m => $"{m.Name}={m.Peer}"));
        return [.. members.Select(m => new EtcdServerProcess(m.Name, m.Client, m.Peer, initial, extraFlags))];
    }

    /// <summary>
    /// Starts a member that joins a running cluster (<c>--initial-cluster-state existing</c>) after a member add:
    /// <paramref name="initialCluster"/> names every member, this one included, as <c>name=peerURL</c>.
    /// </summary>
    public static EtcdServerProcess Join(string name, string client, string peer, string initialCluster, params string[] extraFlags) =>
        new(name, client, peer, initialCluster, extraFlags, join: true);

    private EtcdServerProcess(string name, string client, string peer, string? initialCluster, string[] extraFlags, bool join = false)
    {
        ClientUrl = client;
        Name = name;
        PeerUrl = peer;
        var psi = new ProcessStartInfo(ExecutablePath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            "--name", name, "--data-dir", _dataDir,
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", initialCluster ?? $"{name}={peer}", "--initial-cluster-state", join ? "existing" : "new",
            "--logger", "zap", "--log-level", "warn",
            .. extraFlags,
        ];
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => Record(e.Data);
        _process.ErrorDataReceived += (_, e) => Record(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string ClientUrl { get; }

    /// <summary>The member's name (<c>--name</c>).</summary>
    public string Name { get; }

    /// <summary>The member's peer URL.</summary>
    public string PeerUrl { get; }

    /// <summary>The last lines etcd logged, for a failed test's message.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    private void Record(string? line)
    {
        if (line is null)
            return;
        lock (_output)
        {
            if (_output.Length > 16_000)
                _output.Remove(0, 8_000);
            _output.AppendLine(line);
        }
    }

    /// <summary>SIGKILL, keeping the data directory until dispose.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
