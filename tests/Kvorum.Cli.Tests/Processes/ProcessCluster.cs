using Kvorum.Tests.Shared;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Serve;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A cluster of real <c>kvorum serve</c> processes on loopback (the kvorum.dll built next to the tests,
/// run with <c>dotnet</c>), each with free ports and a temporary data directory. Members can be killed
/// with SIGKILL, stopped and restarted; a member can be added with <c>--initial-cluster-state existing</c>.
/// </summary>
internal sealed class ProcessCluster : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kvorum-proc-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, Process> _processes = [];
    private readonly Dictionary<string, GrpcChannel> _channels = [];
    private readonly string _token = "proc-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string[] _extraArgs;

    public ProcessCluster(int size, params string[] extraArgs)
    {
        _extraArgs = extraArgs;
        for (var i = 1; i <= size; i++)
            Define($"m{i}");
    }

    public sealed record MemberPorts(int Client, int Peer);

    public Dictionary<string, MemberPorts> Members { get; } = [];

    public string ClientUrl(string name) => $"http://127.0.0.1:{Members[name].Client}";

    public string PeerUrl(string name) => $"http://127.0.0.1:{Members[name].Peer}";

    public string Endpoints(IEnumerable<string>? names = null) =>
        string.Join(",", (names ?? Members.Keys).Select(n => $"127.0.0.1:{Members[n].Client}"));

    /// <summary>Gives <paramref name="name"/> new free ports (a member moved to other ports, or a new one).</summary>
    public MemberPorts Define(string name)
    {
        if (_channels.Remove(name, out var old))
            old.Dispose();
        return Members[name] = new MemberPorts(FreePorts.Next(), FreePorts.Next());
    }

    /// <summary>The member's data directory (it exists once the member has started).</summary>
    public string DataDir(string name) => Path.Combine(_root, name);

    /// <summary>The cluster's <c>--initial-cluster-token</c>.</summary>
    public string Token => _token;

    /// <summary>The <c>--initial-cluster</c> flag of every defined member.</summary>
    public string InitialClusterFlag => InitialCluster(Members.Keys);

    private string InitialCluster(IEnumerable<string> names) => string.Join(",", names.Select(n => $"{n}={PeerUrl(n)}"));

    /// <summary>
    /// Starts a member; <paramref name="initialMembers"/> defaults to every defined member. A member added with
    /// <c>member add</c> is started with <paramref name="joinExisting"/> (<c>--initial-cluster-state existing</c>).
    /// </summary>
    public void Start(string name, bool joinExisting = false, IEnumerable<string>? initialMembers = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "kvorum.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var serve = new ServeArguments
        {
            Name = name,
            DataDir = DataDir(name),
            ListenClientUrls = [new Uri(ClientUrl(name))],
            AdvertiseClientUrls = [new Uri(ClientUrl(name))],
            ListenPeerUrls = [new Uri(PeerUrl(name))],
            InitialAdvertisePeerUrls = [new Uri(PeerUrl(name))],
            InitialCluster = [.. (initialMembers ?? Members.Keys).Select(n => new InitialClusterMember(n, new Uri(PeerUrl(n))))],
            InitialClusterToken = _token,
            JoinExistingCluster = joinExisting,
            ExtraFlags = _extraArgs,
        };
        foreach (var a in serve.ToArgs().Prepend(dll))
            psi.ArgumentList.Add(a);
        Directory.CreateDirectory(_root);
        var log = File.AppendText(Path.Combine(_root, name + ".log"));
        log.AutoFlush = true;
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start kvorum");
        p.OutputDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { lock (log) log.WriteLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _processes[name] = p;
    }

    public void StartAll()
    {
        Directory.CreateDirectory(_root);
        foreach (var n in Members.Keys)
            Start(n);
    }

    /// <summary>
    /// Starts every member and waits until they agree on a leader; returns its name. If they do not within
    /// <paramref name="timeout"/>, every member is killed before the error goes on: xunit 2 does not dispose a test
    /// class whose <c>InitializeAsync</c> failed, and members left running would load the machine for the rest of the run.
    /// </summary>
    public async Task<string> StartAllWithLeaderAsync(TimeSpan timeout)
    {
        StartAll();
        try
        {
            return await WaitForLeaderAsync(timeout);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL: the process gets no chance to flush anything.</summary>
    public void Kill(string name)
    {
        if (_processes.Remove(name, out var p))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            p.Dispose();
        }
    }

    /// <summary>Stops a member with SIGTERM (a clean shutdown) and waits for it to exit; returns its exit code.</summary>
    public async Task<int> StopAsync(string name, TimeSpan timeout)
    {
        if (!_processes.TryGetValue(name, out var p))
            throw new InvalidOperationException($"{name} is not running");
        Kvorum.Lab.Host.ProcessSignals.Send(p.Id, Kvorum.Lab.Host.ProcessSignals.Terminate);
        return await WaitForExitAsync(name, timeout);
    }

    /// <summary>Waits for a member's process to exit on its own; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(string name, TimeSpan timeout)
    {
        var p = _processes[name];
        using var wait = new CancellationTokenSource(timeout);
        await p.WaitForExitAsync(wait.Token);
        _processes.Remove(name);
        var code = p.ExitCode;
        p.Dispose();
        return code;
    }

    /// <summary>SIGSTOP (true) or SIGCONT (false): a member that stops answering without going away.</summary>
    public void Pause(string name, bool paused) =>
        Kvorum.Lab.Host.ProcessSignals.Send(_processes[name].Id, paused ? Kvorum.Lab.Host.ProcessSignals.Stop : Kvorum.Lab.Host.ProcessSignals.Continue);

    public bool IsRunning(string name) => _processes.ContainsKey(name);

    /// <summary>What a member's process printed so far.</summary>
    public string LogText(string name)
    {
        using var f = new FileStream(Path.Combine(_root, name + ".log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(f);
        return r.ReadToEnd();
    }

    /// <summary>Writes every member's log so far to <paramref name="log"/>: the post-mortem of a failed test.</summary>
    public void WriteLogs(Action<string> log)
    {
        foreach (var n in Members.Keys.Where(n => File.Exists(Path.Combine(_root, n + ".log"))))
            log($"--- log of {n} ---\n{LogText(n)}");
    }

    public GrpcChannel Channel(string name)
    {
        if (!_channels.TryGetValue(name, out var c))
            _channels[name] = c = GrpcChannel.ForAddress(ClientUrl(name));
        return c;
    }

    public KV.KVClient Kv(string name) => new(Channel(name));

    /// <summary>Status of a member, or null if it does not answer within 500 ms.</summary>
    public async Task<StatusResponse?> StatusAsync(string name)
    {
        try
        {
            return await new Maintenance.MaintenanceClient(Channel(name)).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddMilliseconds(500));
        }
        catch (Grpc.Core.RpcException)
        {
            return null;
        }
    }

    /// <summary>Status of a member, retried for up to 10 s (a loaded machine can miss one short deadline).</summary>
    public async Task<StatusResponse> RequireStatusAsync(string name)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            if (await StatusAsync(name) is { } s)
                return s;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"member {name} did not answer Status within 10 s; logs in {_root}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// A linearizable range read as an etcd client does it right after a failover: asked of
    /// <paramref name="first"/>, then of the other running members in turn, retrying "unavailable"
    /// answers (no leader, leader changed, timed out) until <paramref name="timeout"/>. Every failed
    /// attempt is written to <paramref name="log"/>; the last error is rethrown with the members' logs.
    /// </summary>
    public async Task<RangeResponse> ReadAfterFailoverAsync(string first, RangeRequest request, TimeSpan timeout, Action<string> log)
    {
        var deadline = DateTime.UtcNow + timeout;
        var order = new[] { first }.Concat(_processes.Keys.Where(n => n != first)).ToList();
        for (var attempt = 0; ; attempt++)
        {
            var name = order[attempt % order.Count];
            try
            {
                return await Kv(name).RangeAsync(request, deadline: DateTime.UtcNow.AddSeconds(5));
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode is Grpc.Core.StatusCode.Unavailable or Grpc.Core.StatusCode.DeadlineExceeded)
            {
                log($"read via {name} failed: {e.Status.Detail}");
                if (DateTime.UtcNow > deadline)
                {
                    WriteLogs(log);
                    throw;
                }
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Waits until every running member reports the same leader; returns that leader's name.</summary>
    public async Task<string> WaitForLeaderAsync(TimeSpan timeout, string? notThis = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        var statuses = new List<(string Name, StatusResponse? S)>();
        var sweeps = 0;
        while (DateTime.UtcNow < deadline)
        {
            statuses = [];
            sweeps++;
            foreach (var n in _processes.Keys.ToList())
                statuses.Add((n, await StatusAsync(n)));
            var leaders = statuses.Where(s => s.S is not null).Select(s => s.S!.Leader).Distinct().ToList();
            if (statuses.All(s => s.S is not null) && leaders.Count == 1 && leaders[0] != 0)
            {
                var leader = statuses.FirstOrDefault(s => s.S!.Header.MemberId == leaders[0]).Name;
                if (leader is not null && leader != notThis)
                    return leader;
            }
            await Task.Delay(20);
        }
        // Say what the members reported last, and what they logged, so that a failure in CI can be read from its output.
        var report = new System.Text.StringBuilder();
        report.Append(CultureInfo.InvariantCulture, $"no agreed leader within {timeout} ({sweeps} sweeps); last statuses:");
        foreach (var (n, s) in statuses)
        {
            if (s is null)
                report.Append(CultureInfo.InvariantCulture, $" {n}: no answer within 500 ms;");
            else
                report.Append(CultureInfo.InvariantCulture, $" {n} (id {s.Header.MemberId:x}): leader {s.Leader:x}, term {s.RaftTerm}, applied {s.RaftAppliedIndex};");
        }
        foreach (var n in _processes.Keys.Where(n => File.Exists(Path.Combine(_root, n + ".log"))))
        {
            var lines = LogText(n).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            report.Append(CultureInfo.InvariantCulture, $"\n--- last {Math.Min(20, lines.Length)} lines of {n}'s log ---\n");
            report.AppendJoin('\n', lines.TakeLast(20));
        }
        throw new TimeoutException(report.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var n in _processes.Keys.ToList())
            Kill(n);
        foreach (var c in _channels.Values)
            c.Dispose();
        await Task.Yield();
        if (Environment.GetEnvironmentVariable("KVORUM_KEEP_TEST_LOGS") == "1")
            return; // for a post-mortem of a failed run
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
